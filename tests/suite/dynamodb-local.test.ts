// The suite's DynamoDB (DynamoDB Local, or the in-memory one with TEST_DYNAMODB=memory) answers
// the JSON API on every runtime (plain fetch, no library code): ListTables, then CreateTable /
// DescribeTable / DeleteTable on a table of its own.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { backend, MEMORY_ENDPOINT, testEndpoint } from '../support/backend.ts'

type Json = Record<string, unknown>

/** One DynamoDB JSON API call; DynamoDB Local wants an Authorization header but checks no signature. */
async function call(operation: string, body: Json): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${testEndpoint()}/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': `DynamoDB_20120810.${operation}`,
      Authorization:
        'AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/dynamodb/aws4_request, ' +
        'SignedHeaders=host, Signature=x',
    },
    body: JSON.stringify(body),
  })
  return { status: response.status, json: (await response.json()) as Json }
}

/** Every table name, page by page (other tests share this DynamoDB Local). */
async function allTableNames(): Promise<string[]> {
  const names: string[] = []
  let start: unknown
  do {
    const { status, json } = await call(
      'ListTables',
      start ? { ExclusiveStartTableName: start } : {},
    )
    assert.equal(status, 200, JSON.stringify(json))
    names.push(...(json.TableNames as string[]))
    start = json.LastEvaluatedTableName
  } while (start)
  return names
}

describe('DynamoDB Local', () => {
  test('DynamoDB Local lists tables', async () => {
    const { status, json } = await call('ListTables', {})
    assert.equal(status, 200)
    assert.ok(Array.isArray(json.TableNames), 'TableNames is an array')
  })

  test('DynamoDB Local creates, describes and deletes a table', async () => {
    const name = `dynamodb-local-test-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`

    const created = await call('CreateTable', {
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    })
    assert.equal(created.status, 200, JSON.stringify(created.json))
    const table = created.json.TableDescription as Json
    assert.equal(table.TableName, name)
    assert.deepEqual(table.KeySchema, [{ AttributeName: 'id', KeyType: 'HASH' }])
    assert.equal((table.BillingModeSummary as Json).BillingMode, 'PAY_PER_REQUEST')

    try {
      const described = await call('DescribeTable', { TableName: name })
      assert.equal(described.status, 200)
      assert.equal((described.json.Table as Json).TableStatus, 'ACTIVE')

      assert.ok((await allTableNames()).includes(name), 'the new table is listed')
    } finally {
      const deleted = await call('DeleteTable', { TableName: name })
      assert.equal(deleted.status, 200, JSON.stringify(deleted.json))
      assert.equal((deleted.json.TableDescription as Json).TableName, name)
    }

    const gone = await call('DescribeTable', { TableName: name })
    assert.equal(gone.status, 400)
    assert.match(String(gone.json.__type), /ResourceNotFoundException$/)
  })

  test(`testEndpoint() is the ${backend} endpoint, an http URL without a trailing slash`, () => {
    if (backend === 'memory') assert.equal(testEndpoint(), MEMORY_ENDPOINT)
    else assert.match(testEndpoint(), /^http:\/\/127\.0\.0\.1:\d+$/)
  })
})
