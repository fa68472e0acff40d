// Table tools against DynamoDB Local: createSessionTable sets up what the middleware needs, and
// sweepExpiredSessions deletes exactly the expired items, page by page, in batches of 25.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  createSessionTable,
  type DynamoSessionError,
  sweepExpiredSessions,
} from '../../src/index.ts'
import { testEndpoint } from '../env.ts'
import { countingFetch, credentials, ddb, freshTable } from '../helpers.ts'

const NOW = 1_800_000_000
const TOTAL = 1000
const EXPIRED = 600
// Items of about 3 KB make 1,000 of them about 3 MB, so a Scan (1 MB a page) needs several pages.
const PAYLOAD = 'x'.repeat(3000)

/** Item i: the first EXPIRED are expired (some long ago, some a second ago), the rest are live. */
function itemOf(i: number) {
  const expires =
    i < EXPIRED
      ? NOW - 1 - (i % 3) * 86400
      : // `expires` equal to now is not yet expired; the others are in the future
        NOW + (i % 2) * 3600
  return {
    id: { S: `item-${String(i).padStart(4, '0')}` },
    data: { M: { n: { N: String(i) }, blob: { S: PAYLOAD } } },
    expires: { N: String(expires) },
    created: { N: String(NOW - 100_000) },
  }
}

async function seed(table: string, items: Record<string, unknown>[]) {
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }))
    while (requests.length > 0) {
      const out = await ddb('BatchWriteItem', { RequestItems: { [table]: requests } })
      requests = out.UnprocessedItems?.[table] ?? []
    }
  }
}

async function allItems(table: string) {
  // biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
  const items: any[] = []
  let start: unknown
  do {
    const page = await ddb('Scan', {
      TableName: table,
      ConsistentRead: true,
      ...(start ? { ExclusiveStartKey: start } : {}),
    })
    items.push(...page.Items)
    start = page.LastEvaluatedKey
  } while (start)
  return items
}

const deleteCount = (body: { RequestItems: Record<string, unknown[]> }) =>
  Object.values(body.RequestItems).reduce((n, list) => n + list.length, 0)

describe('createSessionTable', () => {
  test('creates an on-demand table keyed by a string id, with TTL on expires, and is idempotent', async () => {
    const table = `create-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
    const conn = { table, region: 'us-east-1', endpoint: testEndpoint(), credentials }
    assert.deepEqual(await createSessionTable(conn), { created: true, table })

    const { Table } = await ddb('DescribeTable', { TableName: table })
    assert.equal(Table.TableStatus, 'ACTIVE')
    assert.deepEqual(Table.KeySchema, [{ AttributeName: 'id', KeyType: 'HASH' }])
    assert.deepEqual(Table.AttributeDefinitions, [{ AttributeName: 'id', AttributeType: 'S' }])
    assert.equal(Table.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST')
    const ttl = await ddb('DescribeTimeToLive', { TableName: table })
    assert.equal(ttl.TimeToLiveDescription.TimeToLiveStatus, 'ENABLED')
    assert.equal(ttl.TimeToLiveDescription.AttributeName, 'expires')

    // A second call finds the table and TTL in place, and keeps the items.
    await ddb('PutItem', { TableName: table, Item: itemOf(TOTAL - 1) })
    assert.deepEqual(await createSessionTable(conn), { created: false, table })
    assert.equal((await allItems(table)).length, 1)
  })

  test('takes the table name and the connection from the environment', async () => {
    const table = `env-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
    const result = await createSessionTable({
      env: {
        SESSION_TABLE: table,
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_DYNAMODB: testEndpoint(),
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
    })
    assert.deepEqual(result, { created: true, table })
    const { Table } = await ddb('DescribeTable', { TableName: table })
    assert.equal(Table.TableName, table)
  })
})

describe('sweepExpiredSessions', () => {
  test('deletes exactly the 600 expired of 1,000 items over several Scan pages, 25 per batch', async () => {
    const conn = await freshTable('sweep')
    await seed(
      conn.table,
      Array.from({ length: TOTAL }, (_, i) => itemOf(i)),
    )
    const counter = countingFetch()
    const progress: { scanned: number; deleted: number }[] = []
    const deleted = await sweepExpiredSessions({
      ...conn,
      fetch: counter.fetch,
      now: NOW,
      onProgress: (p) => progress.push({ ...p }),
    })
    assert.equal(deleted, EXPIRED)

    const scans = counter.calls.filter((c) => c.op === 'Scan')
    assert.ok(scans.length > 1, `the table was scanned in ${scans.length} page(s)`)
    assert.equal(scans[0].body.ExclusiveStartKey, undefined)
    for (const scan of scans.slice(1)) assert.ok(scan.body.ExclusiveStartKey, 'pages continue')
    const batches = counter.calls.filter((c) => c.op === 'BatchWriteItem')
    assert.ok(batches.every((c) => deleteCount(c.body) <= 25 && deleteCount(c.body) > 0))
    assert.equal(
      batches.reduce((n, c) => n + deleteCount(c.body), 0),
      EXPIRED,
      'each expired item is deleted once',
    )
    assert.ok(batches.length >= EXPIRED / 25)

    // One progress report per page; the last one has the totals.
    assert.equal(progress.length, scans.length)
    assert.deepEqual(progress.at(-1), { scanned: TOTAL, deleted: EXPIRED })
    for (let i = 1; i < progress.length; i++) {
      assert.ok(progress[i].scanned > progress[i - 1].scanned)
      assert.ok(progress[i].deleted >= progress[i - 1].deleted)
    }

    // The 400 live items are all there, unchanged.
    const left = await allItems(conn.table)
    assert.equal(left.length, TOTAL - EXPIRED)
    left.sort((a, b) => a.id.S.localeCompare(b.id.S))
    assert.deepEqual(
      left,
      Array.from({ length: TOTAL - EXPIRED }, (_, i) => itemOf(EXPIRED + i)),
    )

    // Nothing is left to sweep.
    assert.equal(await sweepExpiredSessions({ ...conn, now: NOW }), 0)
  })

  test('retries the deletes DynamoDB leaves unprocessed', async () => {
    const conn = await freshTable('unprocessed')
    await seed(
      conn.table,
      Array.from({ length: 60 }, (_, i) => itemOf(i + (i % 2 ? EXPIRED : 0))),
    )
    // The first BatchWriteItem is only half done: DynamoDB gets the first 10 deletes and the
    // rest come back as UnprocessedItems, as under throttling.
    let refused: unknown[] = []
    const counter = countingFetch(async (input, init) => {
      const request = new Request(input, init)
      const op = request.headers.get('x-amz-target')?.split('.').pop()
      if (op !== 'BatchWriteItem' || refused.length > 0) return fetch(request)
      const body = await request.json()
      const [table, all] = Object.entries(body.RequestItems)[0] as [string, unknown[]]
      refused = all.slice(10)
      await ddb('BatchWriteItem', { RequestItems: { [table]: all.slice(0, 10) } })
      return Response.json({ UnprocessedItems: { [table]: refused } })
    })
    const deleted = await sweepExpiredSessions({ ...conn, fetch: counter.fetch, now: NOW })
    assert.equal(deleted, 30)
    assert.equal(refused.length, 15)
    const batches = counter.calls.filter((c) => c.op === 'BatchWriteItem')
    assert.deepEqual(
      batches.map((c) => deleteCount(c.body)),
      [25, 15, 5],
      'the unprocessed 15 are sent again before the next batch',
    )
    assert.deepEqual(batches[1].body.RequestItems[conn.table], refused)
    const left = await allItems(conn.table)
    assert.equal(left.length, 30)
    assert.ok(left.every((item) => Number(item.expires.N) >= NOW))
  })

  test('gives up with THROTTLED when deletes stay unprocessed', async () => {
    const conn = await freshTable('stuck')
    await seed(conn.table, [itemOf(0), itemOf(1)])
    const stuck: typeof fetch = async (input, init) => {
      const request = new Request(input, init)
      if (!request.headers.get('x-amz-target')?.endsWith('.BatchWriteItem')) return fetch(request)
      const body = await request.json()
      return Response.json({ UnprocessedItems: body.RequestItems })
    }
    await assert.rejects(
      sweepExpiredSessions({ ...conn, fetch: stuck, now: NOW }),
      (error: DynamoSessionError) => {
        assert.equal(error.code, 'THROTTLED')
        assert.match(error.message, /2 deletes stayed unprocessed/)
        return true
      },
    )
    assert.equal((await allItems(conn.table)).length, 2)
  })

  test('an empty table costs one Scan and no write', async () => {
    const conn = await freshTable('empty')
    const counter = countingFetch()
    assert.equal(await sweepExpiredSessions({ ...conn, fetch: counter.fetch }), 0)
    assert.deepEqual(counter.ops(), ['Scan'])
  })

  test('a missing table fails with TABLE_NOT_FOUND naming the table', async () => {
    await assert.rejects(
      sweepExpiredSessions({
        table: 'no-such-sweep-table',
        region: 'us-east-1',
        endpoint: testEndpoint(),
        credentials,
      }),
      (error: DynamoSessionError) => {
        assert.equal(error.code, 'TABLE_NOT_FOUND')
        assert.match(error.message, /no-such-sweep-table/)
        return true
      },
    )
  })
})
