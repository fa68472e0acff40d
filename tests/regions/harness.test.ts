// The multi-region harness (tests/regions/harness.ts) behaves as a global table: replication after
// the lag, last writer wins, deletes, outages, and no echo. Three DynamoDB Locals of its own.
import assert from 'node:assert/strict'
import { after, describe, test as nodeTest } from 'node:test'
import { createSessionTable } from '../../src/index.ts'
import { call, type Item, type Json, now } from './dynamodb.ts'
import { type Regions, startRegions } from './harness.ts'

const [A, B, C] = ['us-east-1', 'eu-west-1', 'ap-southeast-2']
let g: Regions
let started: Promise<Regions> | undefined

/**
 * A test on the shared regions, started by the first test rather than in a hook: Bun's node:test
 * hooks time out after 5 s whatever they are told, and three JVMs starting side by side on two
 * cores may take longer.
 */
function test(name: string, body: () => Promise<void>): void {
  nodeTest(name, { timeout: 120_000 }, async () => {
    started ??= startRegions([A, B, C])
    g = await started
    await body()
  })
}
let tables = 0

/** A new table in every region, key `id` (S). */
async function freshTable(): Promise<string> {
  const name = `regions-${tables++}-${Math.random().toString(36).slice(2, 8)}`
  await g.createTable({
    TableName: name,
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  })
  return name
}

const send = (region: string, op: string, body: Json) => call(g.endpoint(region), op, body)
const put = (region: string, table: string, item: Item) =>
  send(region, 'PutItem', { TableName: table, Item: item })

/** The item as `region` holds it now (strongly consistent: that region's latest). */
async function read(region: string, table: string, id: string): Promise<Item | undefined> {
  const key = { id: { S: id } }
  const out = await call(g.local(region), 'GetItem', {
    TableName: table,
    Key: key,
    ConsistentRead: true,
  })
  return out.Item
}

const valueIn = async (region: string, table: string, id: string) =>
  (await read(region, table, id))?.v?.S

/** What each region holds in `v` of item `id`, by region. */
const everywhere = async (table: string, id: string) =>
  Object.fromEntries(
    await Promise.all(g.regions.map(async (r) => [r, await valueIn(r, table, id)])),
  )

describe('a global table made of three DynamoDB Locals', () => {
  after(async () => {
    await (await started)?.stop()
  })

  test('a put in one region reaches the others once the lag has passed, not before', async () => {
    const table = await freshTable()
    g.setLag(60_000)
    await put(A, table, { id: { S: 'k' }, v: { S: 'one' } })
    await assert.rejects(g.settle({ timeoutMs: 100 }), /us-east-1 → eu-west-1: 1/)
    assert.deepEqual(await everywhere(table, 'k'), { [A]: 'one', [B]: undefined, [C]: undefined })
    g.setLag(0)
    await g.settle()
    assert.deepEqual(await everywhere(table, 'k'), { [A]: 'one', [B]: 'one', [C]: 'one' })

    g.setLag(300)
    const sent = now()
    await put(B, table, { id: { S: 'k' }, v: { S: 'two' } })
    await g.settle()
    assert.ok(now() - sent >= 300, 'settled no sooner than the lag')
    assert.deepEqual(await everywhere(table, 'k'), { [A]: 'two', [B]: 'two', [C]: 'two' })
    g.setLag(0)
  })

  test('two writes to one item in two regions end as the later one in every region', async () => {
    const table = await freshTable()
    g.pause()
    await put(A, table, { id: { S: 'k' }, v: { S: 'earlier' } })
    await put(B, table, { id: { S: 'k' }, v: { S: 'later' } })
    const droppedInB = g.replication(B).dropped
    g.resume()
    await g.settle()
    assert.deepEqual(await everywhere(table, 'k'), { [A]: 'later', [B]: 'later', [C]: 'later' })
    assert.equal(g.replication(B).dropped, droppedInB + 1, "B drops A's earlier write silently")
  })

  test('writes to the same items at the same time in every region converge', async () => {
    const table = await freshTable()
    const ids = Array.from({ length: 20 }, (_, i) => `k${i}`)
    await Promise.all(
      ids.flatMap((id) =>
        g.regions.map((r) =>
          send(r, 'UpdateItem', {
            TableName: table,
            Key: { id: { S: id } },
            UpdateExpression: 'SET v = :v',
            ExpressionAttributeValues: { ':v': { S: r } },
          }),
        ),
      ),
    )
    await g.settle()
    for (const id of ids) {
      const values = Object.values(await everywhere(table, id))
      assert.equal(new Set(values).size, 1, `${id} is the same everywhere: ${values}`)
      assert.ok(
        g.regions.includes(String(values[0])),
        `${id} holds one of the writes: ${values[0]}`,
      )
    }
  })

  test('a delete replicates, also one DynamoDB made itself (as TTL does)', async () => {
    const table = await freshTable()
    await put(A, table, { id: { S: 'k' }, v: { S: 'x' } })
    await put(A, table, { id: { S: 'ttl' }, v: { S: 'x' } })
    await g.settle()
    await send(B, 'DeleteItem', { TableName: table, Key: { id: { S: 'k' } } })
    await call(g.local(C), 'DeleteItem', { TableName: table, Key: { id: { S: 'ttl' } } })
    await g.settle()
    for (const id of ['k', 'ttl']) {
      assert.deepEqual(await everywhere(table, id), {
        [A]: undefined,
        [B]: undefined,
        [C]: undefined,
      })
    }
  })

  test('batches and transactions replicate item by item', async () => {
    const table = await freshTable()
    await send(A, 'BatchWriteItem', {
      RequestItems: {
        [table]: ['b1', 'b2'].map((id) => ({
          PutRequest: { Item: { id: { S: id }, v: { S: id } } },
        })),
      },
    })
    await send(B, 'TransactWriteItems', {
      TransactItems: [
        { Put: { TableName: table, Item: { id: { S: 't1' }, v: { S: 't1' } } } },
        { Delete: { TableName: table, Key: { id: { S: 'b1' } } } },
      ],
    })
    await g.settle()
    for (const region of g.regions) {
      assert.equal(await valueIn(region, table, 'b1'), undefined)
      assert.equal(await valueIn(region, table, 'b2'), 'b2')
      assert.equal(await valueIn(region, table, 't1'), 't1')
    }
  })

  test("a condition sees only its own region's copy", async () => {
    const table = await freshTable()
    g.pause()
    await put(A, table, { id: { S: 'k' }, v: { S: 'in A' } })
    // Not yet replicated: B has no item, so a create-only put succeeds there too.
    await send(B, 'PutItem', {
      TableName: table,
      Item: { id: { S: 'k' }, v: { S: 'in B' } },
      ConditionExpression: 'attribute_not_exists(id)',
    })
    g.resume()
    await g.settle()
    assert.deepEqual(await everywhere(table, 'k'), { [A]: 'in B', [B]: 'in B', [C]: 'in B' })
  })

  test('a region that is down refuses, hangs or answers 500; its changes arrive after up()', async () => {
    const table = await freshTable()
    g.pause()
    await put(A, table, { id: { S: 'from-a' }, v: { S: 'a' } })
    await put(B, table, { id: { S: 'from-b' }, v: { S: 'b' } })
    await g.down(A)
    await assert.rejects(put(A, table, { id: { S: 'x' } }), TypeError)
    g.resume()
    await g.settle()
    assert.deepEqual(await everywhere(table, 'from-a'), {
      [A]: 'a',
      [B]: undefined,
      [C]: undefined,
    })
    assert.deepEqual(await everywhere(table, 'from-b'), { [A]: undefined, [B]: 'b', [C]: 'b' })

    await g.down(B, 'hang')
    await g.down(C, '500')
    const hung = fetch(g.endpoint(B), {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(200),
    })
    await assert.rejects(hung, /abort|time/i)
    const failed = await fetch(g.endpoint(C), { method: 'POST', body: '{}' })
    assert.equal(failed.status, 500)
    await failed.body?.cancel()

    await Promise.all([A, B, C].map((r) => g.up(r)))
    await g.settle()
    for (const id of ['from-a', 'from-b']) {
      const expected = id === 'from-a' ? 'a' : 'b'
      assert.deepEqual(await everywhere(table, id), { [A]: expected, [B]: expected, [C]: expected })
    }
    assert.equal(
      (await send(A, 'GetItem', { TableName: table, Key: { id: { S: 'from-b' } } })).Item.v.S,
      'b',
    )
  })

  test('a change is applied once in each other region, never echoed back', async () => {
    const table = await freshTable()
    await g.settle()
    const before = Object.fromEntries(g.regions.map((r) => [r, g.replication(r)]))
    g.resetCalls()
    await put(A, table, { id: { S: 'k' }, v: { S: 'once' } })
    await g.settle()
    await g.settle() // a second look: nothing more comes
    const delta = (r: string) => ({
      applied: g.replication(r).applied - before[r].applied,
      dropped: g.replication(r).dropped - before[r].dropped,
    })
    assert.deepEqual(delta(A), { applied: 0, dropped: 0 })
    assert.deepEqual(delta(B), { applied: 1, dropped: 0 })
    assert.deepEqual(delta(C), { applied: 1, dropped: 0 })
    assert.deepEqual(g.calls(A), { PutItem: 1 })
    assert.deepEqual(g.calls(B), {})
  })

  test("the library's createSessionTable through each region's endpoint makes a replicated table", async () => {
    const table = `regions-sessions-${Math.random().toString(36).slice(2, 8)}`
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
    for (const region of g.regions) {
      await createSessionTable({ table, region, endpoint: g.endpoint(region), credentials })
    }
    await put(C, table, { id: { S: 'k' }, v: { S: 'made in C' } })
    await g.settle()
    assert.deepEqual(await everywhere(table, 'k'), {
      [A]: 'made in C',
      [B]: 'made in C',
      [C]: 'made in C',
    })
  })
})
