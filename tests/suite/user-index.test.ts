// The user index: createSessionTable() creates it with the table (sparse: keyed by uid, sorted by
// created, projecting only what listSessions() shows), adds it to an existing table that lacks
// it and waits until it is ACTIVE, and refuses an index or attribute of that name that differs.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createSessionTable, type DynamoSessionError } from '../../src/index.ts'
import { testEndpoint } from '../support/backend.ts'
import { credentials, ddb } from '../support/dynamodb.ts'
import { recordingFetch } from '../support/fetch.ts'
import { dropTable, indexBuiltAfter } from '../support/users.ts'

const name = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`

/** A table made by hand, as an app on an earlier version (or someone else) made it. */
async function handMade(extra: Record<string, unknown> = {}, billing = true) {
  const table = name('uidx')
  await ddb('CreateTable', {
    TableName: table,
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    ...(billing ? { BillingMode: 'PAY_PER_REQUEST' } : {}),
    ...extra,
  })
  return { table, region: 'us-east-1', endpoint: testEndpoint(), credentials }
}

const userIndexOf = async (table: string) => {
  const { Table } = await ddb('DescribeTable', { TableName: table })
  return (Table.GlobalSecondaryIndexes ?? []).find(
    (i: { IndexName: string }) => i.IndexName === 'user',
  )
}

/** The index as createSessionTable() defines it. */
const expectedIndex = {
  IndexName: 'user',
  KeySchema: [
    { AttributeName: 'uid', KeyType: 'HASH' },
    { AttributeName: 'created', KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['h', 'device', 'expires'] },
}

describe('the user index', () => {
  test('createSessionTable() creates it with the table: uid, then created, projecting the list only', async () => {
    const conn = { table: name('uidx'), region: 'us-east-1', endpoint: testEndpoint(), credentials }
    const counter = recordingFetch()
    await createSessionTable({ ...conn, fetch: counter.fetch })
    const create = counter.calls[0].body
    assert.deepEqual(create.GlobalSecondaryIndexes, [expectedIndex])
    const index = await userIndexOf(conn.table)
    assert.equal(index.IndexStatus, 'ACTIVE')
    assert.deepEqual(index.Projection.NonKeyAttributes, ['h', 'device', 'expires'])
  })

  test('an existing table without it gets it by UpdateTable, and the call waits until it is ACTIVE', async () => {
    const conn = await handMade()
    try {
      await ddb('PutItem', { TableName: conn.table, Item: { id: { S: 'kept' }, data: { M: {} } } })
      const build = indexBuiltAfter(2)
      const counter = recordingFetch(build.fetch)
      const result = await createSessionTable({ ...conn, fetch: counter.fetch })
      assert.deepEqual(result, { created: false, table: conn.table, indexAdded: true })
      const update = counter.calls.find((c) => c.op === 'UpdateTable')?.body
      assert.deepEqual(update.AttributeDefinitions, [
        { AttributeName: 'uid', AttributeType: 'S' },
        { AttributeName: 'created', AttributeType: 'N' },
      ])
      assert.deepEqual(update.GlobalSecondaryIndexUpdates, [{ Create: expectedIndex }])
      const after = counter.ops().slice(counter.ops().indexOf('UpdateTable') + 1)
      assert.deepEqual(
        after,
        ['DescribeTable', 'DescribeTable', 'DescribeTable'],
        'polled until built',
      )
      assert.equal(build.creating, 2)
      // DynamoDB took it (building or built, as it goes), with the key and projection sent.
      const index = await userIndexOf(conn.table)
      assert.deepEqual(index.KeySchema, expectedIndex.KeySchema)
      assert.deepEqual(index.Projection, expectedIndex.Projection)
      assert.equal((await ddb('Scan', { TableName: conn.table })).Count, 1, 'the items are kept')
      // Run again: the index is there, nothing is changed.
      counter.reset()
      const again = recordingFetch(indexBuiltAfter(0).fetch)
      assert.deepEqual(await createSessionTable({ ...conn, fetch: again.fetch }), {
        created: false,
        table: conn.table,
        indexAdded: false,
      })
      assert.deepEqual(again.ops(), ['CreateTable', 'DescribeTable', 'DescribeTimeToLive'])
    } finally {
      await dropTable(conn.table)
    }
  })

  test('a provisioned table gets it with the same capacity as the table', async () => {
    const conn = await handMade(
      { ProvisionedThroughput: { ReadCapacityUnits: 7, WriteCapacityUnits: 3 } },
      false,
    )
    try {
      const counter = recordingFetch(indexBuiltAfter(0).fetch)
      await createSessionTable({ ...conn, fetch: counter.fetch })
      const update = counter.calls.find((c) => c.op === 'UpdateTable')?.body
      assert.deepEqual(update.GlobalSecondaryIndexUpdates[0].Create.ProvisionedThroughput, {
        ReadCapacityUnits: 7,
        WriteCapacityUnits: 3,
      })
      assert.equal((await userIndexOf(conn.table)).ProvisionedThroughput.ReadCapacityUnits, 7)
    } finally {
      await dropTable(conn.table)
    }
  })

  test('another process adding it at the same time is no error', async () => {
    const conn = await handMade()
    try {
      const built = indexBuiltAfter(0)
      const counter = recordingFetch(async (input, init) => {
        const request = new Request(input, init)
        const res = await built.fetch(request)
        if (!request.headers.get('x-amz-target')?.endsWith('UpdateTable')) return res
        // The other process's UpdateTable went first: this one is refused.
        return new Response(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ResourceInUseException',
            message: 'Attempt to change a resource which is still in use',
          }),
          { status: 400, headers: res.headers },
        )
      })
      const result = await createSessionTable({ ...conn, fetch: counter.fetch })
      assert.equal(result.indexAdded, false)
      assert.ok(await userIndexOf(conn.table))
    } finally {
      await dropTable(conn.table)
    }
  })

  test('an UpdateTable refused for another reason fails with that error', async () => {
    const conn = await handMade()
    const counter = recordingFetch(async (input, init) => {
      const request = new Request(input, init)
      if (!request.headers.get('x-amz-target')?.endsWith('UpdateTable')) return fetch(request)
      return new Response(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#LimitExceededException',
          message: 'Subscriber limit exceeded: only 1 online index can be created at a time',
        }),
        { status: 400 },
      )
    })
    await assert.rejects(
      createSessionTable({ ...conn, fetch: counter.fetch }),
      (error: DynamoSessionError) => error.awsType === 'LimitExceededException',
    )
    assert.equal(await userIndexOf(conn.table), undefined)
  })

  const uidKey = { AttributeName: 'uid', KeyType: 'HASH' }
  for (const [what, index, definitions, message] of [
    [
      'an index named user with another key',
      {
        KeySchema: [uidKey],
        Projection: { ProjectionType: 'ALL' },
      },
      [{ AttributeName: 'uid', AttributeType: 'S' }],
      /has an index "user" with the key uid \(HASH\); sessions need uid \(HASH\) \+ created \(RANGE\)/,
    ],
    [
      'an index named user that does not project the handle and device',
      {
        KeySchema: [uidKey, { AttributeName: 'created', KeyType: 'RANGE' }],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['expires'] },
      },
      [
        { AttributeName: 'uid', AttributeType: 'S' },
        { AttributeName: 'created', AttributeType: 'N' },
      ],
      /has an index "user" that does not project h, device/,
    ],
    [
      'uid defined as a number for another index',
      {
        IndexName: 'other',
        KeySchema: [uidKey],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      [{ AttributeName: 'uid', AttributeType: 'N' }],
      /defines "uid" as N; the user index needs it as S/,
    ],
  ] as const) {
    test(`an existing table with ${what} fails with KEY_SCHEMA, changing nothing`, async () => {
      const conn = await handMade({
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }, ...definitions],
        GlobalSecondaryIndexes: [{ IndexName: 'user', ...index }],
      })
      const counter = recordingFetch()
      await assert.rejects(
        createSessionTable({ ...conn, fetch: counter.fetch }),
        (error: DynamoSessionError) => {
          assert.equal(error.code, 'KEY_SCHEMA')
          assert.match(error.message, message)
          assert.ok(error.message.includes(`table "${conn.table}"`))
          return true
        },
      )
      assert.deepEqual(counter.ops(), ['CreateTable', 'DescribeTable'])
    })
  }
})
