// The in-memory DynamoDB answers as DynamoDB Local does. Each case of
// tests/fixtures/emulator-cases.ts runs against the suite's backend and must give the expected
// status, error type and message; on DynamoDB Local the same requests also go to a fresh
// memoryDynamoDB(), whose answers must
// equal DynamoDB Local's exactly (bodies included). With TEST_DYNAMODB=memory the expectations
// alone are checked, so both backends are held to the same answers.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { memoryDynamoDB } from '../../src/testing/index.ts'
import { CASES } from '../fixtures/emulator-cases.ts'
import { backend, testEndpoint } from '../support/backend.ts'

type Json = Record<string, unknown>
type Call = (op: string, body: Json) => Promise<{ status: number; body: Json }>

const headers = (op: string) => ({
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': `DynamoDB_20120810.${op}`,
  authorization:
    'AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
})

const caller =
  (endpoint: string, fetcher: typeof fetch): Call =>
  async (op, body) => {
    const res = await fetcher(endpoint, {
      method: 'POST',
      headers: headers(op),
      body: JSON.stringify(body),
    })
    return { status: res.status, body: (await res.json()) as Json }
  }

let counter = 0
const tableName = () =>
  `emu-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${counter++}`

/** Runs a case's steps on a new table; returns the last answer with the table name as `T`. */
async function run(call: Call, steps: [string, Json][], definition: Json = {}) {
  const table = tableName()
  const created = await call('CreateTable', {
    TableName: table,
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
    ...definition,
  })
  assert.equal(created.status, 200, JSON.stringify(created.body))
  let last = { status: 0, body: {} as Json }
  for (const [op, input] of steps) {
    const text = JSON.stringify(input)
      .replaceAll('"TableName":"T"', `"TableName":"${table}"`)
      .replaceAll('"TableName":"T2"', `"TableName":"${table}-2"`)
      .replaceAll('"RequestItems":{"T":', `"RequestItems":{"${table}":`)
    last = await call(op, JSON.parse(text))
  }
  // Creation times differ between the two backends by the time between the two runs.
  const body = JSON.parse(
    JSON.stringify(last.body)
      .replaceAll(table, 'T')
      .replace(/"(CreationDateTime|LastUpdateToPayPerRequestDateTime)":[\d.]+/g, '"$1":0'),
  )
  await call('DeleteTable', { TableName: table })
  await call('DeleteTable', { TableName: `${table}-2` })
  return { status: last.status, body }
}

const real = caller(testEndpoint(), (i, n) => fetch(i, n))

describe('the in-memory DynamoDB answers as DynamoDB Local does', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const got = await run(real, c.steps, c.table)
      assert.equal(got.status, c.status, JSON.stringify(got.body).slice(0, 500))
      if (c.type) assert.match(String(got.body.__type), new RegExp(`#${c.type}$`))
      if (typeof c.message === 'string') assert.equal(got.body.Message, c.message)
      else if (c.message) assert.match(String(got.body.Message), c.message)
      if (c.body) for (const [k, v] of Object.entries(c.body)) assert.deepEqual(got.body[k], v)
      if (backend === 'dynamodb-local') {
        const memory = memoryDynamoDB()
        const mine = await run(caller('http://memory.test', memory.fetch), c.steps, c.table)
        assert.deepEqual(mine, got, 'memoryDynamoDB() answers exactly as DynamoDB Local')
      }
    })
  }

  test('Scan pages with Limit and ExclusiveStartKey visit every item once', async () => {
    const table = tableName()
    await real('CreateTable', {
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    })
    const ids = Array.from({ length: 7 }, (_, i) => `item-${i}`)
    for (const id of ids) await real('PutItem', { TableName: table, Item: { id: { S: id } } })
    const seen: string[] = []
    let start: Json | undefined
    let pages = 0
    do {
      const { status, body } = await real('Scan', {
        TableName: table,
        Limit: 3,
        ...(start ? { ExclusiveStartKey: start } : {}),
      })
      assert.equal(status, 200)
      pages++
      const items = body.Items as { id: { S: string } }[]
      assert.equal(body.ScannedCount, items.length)
      seen.push(...items.map((i) => i.id.S))
      start = body.LastEvaluatedKey as Json | undefined
      // A deleted item does not disturb the next page: it starts after the last key seen.
      if (start) await real('DeleteItem', { TableName: table, Key: start })
    } while (start && pages < 10)
    assert.deepEqual([...seen].sort(), ids)
    assert.equal(pages, 3)
    await real('DeleteTable', { TableName: table })
  })

  test('a fetch aborted before it is sent rejects', async () => {
    const memory = memoryDynamoDB()
    await assert.rejects(
      memory.fetch('http://memory.test', {
        method: 'POST',
        headers: headers('ListTables'),
        body: '{}',
        signal: AbortSignal.abort(),
      }),
      { name: 'AbortError' },
    )
  })

  test('tables and reset() show and clear what is stored', async () => {
    const memory = memoryDynamoDB()
    const call = caller('http://memory.test', memory.fetch)
    await call('CreateTable', {
      TableName: 'sessions',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    })
    await call('PutItem', { TableName: 'sessions', Item: { id: { S: 'a' }, n: { N: '1.50' } } })
    assert.deepEqual(memory.tables.get('sessions')?.items, [{ id: { S: 'a' }, n: { N: '1.5' } }])
    memory.reset()
    assert.equal(memory.tables.size, 0)
    assert.equal((await call('DescribeTable', { TableName: 'sessions' })).status, 400)
  })
})
