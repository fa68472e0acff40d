// What the in-memory DynamoDB adds to DynamoDB Local for testing apps: index lag
// (`memoryDynamoDB({ indexLagMs })`), an index that stays CREATING while it fills, and index keys
// of the wrong type refused on every write as DynamoDB refuses them (DynamoDB Local lets an
// UpdateItem through). DynamoDB Local has no lag to set, so these run on the kit alone.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { memoryDynamoDB } from '../../src/testing/index.ts'
import { sleep } from '../support/clock.ts'

type Json = Record<string, unknown>

const userIndex = {
  IndexName: 'user',
  KeySchema: [
    { AttributeName: 'uid', KeyType: 'HASH' },
    { AttributeName: 'created', KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'KEYS_ONLY' },
}
const definitions = [
  { AttributeName: 'uid', AttributeType: 'S' },
  { AttributeName: 'created', AttributeType: 'N' },
]

/** A memoryDynamoDB() with a `sessions` table, and a caller of its API. */
async function setup(options?: { indexLagMs?: number }, indexed = true) {
  const db = memoryDynamoDB(options)
  const call = async (op: string, body: Json) => {
    const res = await db.fetch('http://memory.test', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${op}`,
      },
      body: JSON.stringify({ TableName: 'sessions', ...body }),
    })
    return { status: res.status, body: (await res.json()) as Json }
  }
  const created = await call('CreateTable', {
    AttributeDefinitions: [
      { AttributeName: 'id', AttributeType: 'S' },
      ...(indexed ? definitions : []),
    ],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
    ...(indexed ? { GlobalSecondaryIndexes: [userIndex] } : {}),
  })
  assert.equal(created.status, 200, JSON.stringify(created.body))
  const put = (id: string, uid: string, created: number) =>
    call('PutItem', {
      Item: { id: { S: id }, uid: { S: uid }, created: { N: String(created) } },
    })
  const ids = async (uid: string) => {
    const { body } = await call('Query', {
      IndexName: 'user',
      KeyConditionExpression: 'uid = :u',
      ExpressionAttributeValues: { ':u': { S: uid } },
    })
    return (body.Items as { id: { S: string } }[]).map((i) => i.id.S)
  }
  return { db, call, put, ids }
}

describe('memoryDynamoDB() indexes', () => {
  test('without indexLagMs an index shows every write at once', async () => {
    const { put, ids, call } = await setup()
    await put('a', 'u1', 2)
    await put('b', 'u1', 1)
    assert.deepEqual(await ids('u1'), ['b', 'a'])
    await call('DeleteItem', { Key: { id: { S: 'b' } } })
    assert.deepEqual(await ids('u1'), ['a'])
  })

  test('with indexLagMs the table shows a write at once, the index that much later, in order', async () => {
    const { put, ids, call, db } = await setup({ indexLagMs: 150 })
    await put('a', 'u1', 1)
    await call('UpdateItem', {
      Key: { id: { S: 'a' } },
      UpdateExpression: 'SET uid = :u',
      ExpressionAttributeValues: { ':u': { S: 'u2' } },
    })
    const read = await call('GetItem', { Key: { id: { S: 'a' } }, ConsistentRead: true })
    assert.deepEqual((read.body.Item as Json).uid, { S: 'u2' }, 'the table has the write')
    assert.deepEqual(await ids('u1'), [], 'the index has neither write yet')
    assert.deepEqual(await ids('u2'), [])
    assert.equal(db.tables.get('sessions')?.indexes[0].items.length, 0)
    await sleep(250)
    assert.deepEqual(await ids('u1'), [], 'the put and then the update arrived, in order')
    assert.deepEqual(await ids('u2'), ['a'])
    assert.deepEqual(db.tables.get('sessions')?.indexes[0].items, [
      { id: { S: 'a' }, uid: { S: 'u2' }, created: { N: '1' } },
    ])
  })

  test('an index added by UpdateTable is CREATING until its items are in, then ACTIVE', async () => {
    const { put, ids, call, db } = await setup({ indexLagMs: 150 }, false)
    await put('a', 'u1', 1)
    const updated = await call('UpdateTable', {
      AttributeDefinitions: definitions,
      GlobalSecondaryIndexUpdates: [{ Create: userIndex }],
    })
    assert.equal(updated.status, 200, JSON.stringify(updated.body))
    const status = async () => {
      const { body } = await call('DescribeTable', {})
      return ((body.Table as Json).GlobalSecondaryIndexes as Json[])[0].IndexStatus
    }
    assert.equal(await status(), 'CREATING')
    assert.equal(db.tables.get('sessions')?.indexes[0].status, 'CREATING')
    assert.deepEqual(await ids('u1'), [])
    const again = await call('UpdateTable', {
      AttributeDefinitions: definitions,
      GlobalSecondaryIndexUpdates: [{ Create: { ...userIndex, IndexName: 'other' } }],
    })
    assert.equal(again.body.__type, 'com.amazonaws.dynamodb.v20120810#ResourceInUseException')
    await sleep(250)
    assert.equal(await status(), 'ACTIVE')
    assert.deepEqual(await ids('u1'), ['a'], 'the item written before the index is in it')
  })

  test('without indexLagMs an added index answers CREATING once, then is ACTIVE and full', async () => {
    const { put, ids, call } = await setup(undefined, false)
    await put('a', 'u1', 1)
    const updated = await call('UpdateTable', {
      AttributeDefinitions: definitions,
      GlobalSecondaryIndexUpdates: [{ Create: userIndex }],
    })
    const described = (updated.body.TableDescription as Json).GlobalSecondaryIndexes as Json[]
    assert.equal(described[0].IndexStatus, 'CREATING')
    const { body } = await call('DescribeTable', {})
    const index = ((body.Table as Json).GlobalSecondaryIndexes as Json[])[0]
    assert.equal(index.IndexStatus, 'ACTIVE')
    assert.equal(index.ItemCount, 1)
    assert.deepEqual(await ids('u1'), ['a'])
  })

  test('an UpdateItem that gives an index key the wrong type is refused, as DynamoDB does', async () => {
    // DynamoDB Local 1.25.1 accepts this update, leaving an item its index cannot hold; DynamoDB
    // refuses it, and so does the kit.
    const { put, call } = await setup()
    await put('a', 'u1', 1)
    const { status, body } = await call('UpdateItem', {
      Key: { id: { S: 'a' } },
      UpdateExpression: 'SET uid = :u',
      ExpressionAttributeValues: { ':u': { N: '1' } },
    })
    assert.equal(status, 400)
    assert.equal(
      body.Message,
      'One or more parameter values were invalid: Type mismatch for Index Key',
    )
    const read = await call('GetItem', { Key: { id: { S: 'a' } } })
    assert.deepEqual((read.body.Item as Json).uid, { S: 'u1' }, 'the item is as it was')
  })

  test('an update that leaves an index key as it was is not refused for it', async () => {
    const { call } = await setup(undefined, false)
    await call('PutItem', { Item: { id: { S: 'a' }, uid: { N: '1' } } })
    await call('UpdateTable', {
      AttributeDefinitions: definitions,
      GlobalSecondaryIndexUpdates: [{ Create: userIndex }],
    })
    const { status } = await call('UpdateItem', {
      Key: { id: { S: 'a' } },
      UpdateExpression: 'SET zz = :o',
      ExpressionAttributeValues: { ':o': { S: 'x' } },
    })
    assert.equal(
      status,
      200,
      'an item written before the index, with the wrong type, stays writable',
    )
  })

  test('indexLagMs must be a number of milliseconds, 0 or more', () => {
    for (const indexLagMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      assert.throws(() => memoryDynamoDB({ indexLagMs }), {
        name: 'RangeError',
        message: /indexLagMs must be a number of milliseconds, 0 or more/,
      })
    }
  })
})
