// The testing kit's multi-region mode, `memoryDynamoDB({ regions })`: a DynamoDB global table in
// its default mode (multi-Region eventual consistency) in memory. Requests routed by their
// signature's region, replication after a lag, last-writer-wins, conditions on the local copy,
// regions taken down and brought back, TTL deletions replicated. DynamoDB Local has no regions,
// so these run on the kit alone, whatever the suite's backend; waits use a large lag and
// settle(), never a measured speed.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AwsV4Signer } from 'aws4fetch'
import { Hono } from 'hono'
import { createSessionTable, dynamoSession, type SessionEnv } from '../../src/index.ts'
import { memoryDynamoDB } from '../../src/testing/index.ts'
import { sleep } from '../support/clock.ts'

type Json = Record<string, unknown>

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2']
const [US, EU, AP] = REGIONS
/** Long enough that nothing arrives by itself while a test runs: settle() delivers. */
const LONG = 3_600_000
const HEADERS = (op: string) => ({
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': `DynamoDB_20120810.${op}`,
})

/** A multi-region kit with a `sessions` table, and callers of each region's API. */
async function setup(options: { replicationLagMs?: number; indexLagMs?: number } = {}) {
  const db = memoryDynamoDB({ regions: REGIONS, replicationLagMs: LONG, ...options })
  const call = async (region: string, op: string, body: Json) => {
    const res = await db.region(region).fetch('http://memory.test', {
      method: 'POST',
      headers: HEADERS(op),
      body: JSON.stringify({ TableName: 'sessions', ...body }),
    })
    return { status: res.status, body: (await res.json()) as Json }
  }
  const created = await call(US, 'CreateTable', {
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  })
  assert.equal(created.status, 200, JSON.stringify(created.body))
  const put = (region: string, id: string, v: string, condition?: string) =>
    call(region, 'PutItem', {
      Item: { id: { S: id }, v: { S: v } },
      ...(condition ? { ConditionExpression: condition } : {}),
    })
  /** The item's `v` as a consistent read in the region sees it; undefined: no item. */
  const read = async (region: string, id: string) => {
    const { body } = await call(region, 'GetItem', { Key: { id: { S: id } }, ConsistentRead: true })
    return ((body.Item as Json | undefined)?.v as { S: string } | undefined)?.S
  }
  const everywhere = (id: string) => Promise.all(REGIONS.map((r) => read(r, id)))
  return { db, call, put, read, everywhere }
}

/** A request signed by aws4fetch for a region, as the library signs every call. */
async function signed(region: string, op: string, body: Json, url = 'http://memory.test') {
  return new AwsV4Signer({
    accessKeyId: 'x',
    secretAccessKey: 'x',
    url,
    method: 'POST',
    headers: HEADERS(op),
    body: JSON.stringify(body),
    service: 'dynamodb',
    region,
  }).sign()
}

describe('memoryDynamoDB({ regions })', () => {
  test('one fetch serves every region: each request goes to the region it is signed for', async () => {
    const db = memoryDynamoDB({ regions: REGIONS, replicationLagMs: LONG })
    const send = async (region: string, op: string, body: Json, url?: string) => {
      const { url: signedUrl, ...init } = await signed(region, op, body, url)
      const res = await db.fetch(signedUrl, init)
      return { status: res.status, body: (await res.json()) as Json }
    }
    const created = await send(EU, 'CreateTable', {
      TableName: 'sessions',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    })
    assert.equal(created.status, 200)
    for (const r of REGIONS) assert.ok(db.region(r).tables.has('sessions'), `a replica in ${r}`)

    // The endpoint names us-east-1; the signature, ap-southeast-2: the signature decides.
    const item = { id: { S: 'a' } }
    const put = await send(
      AP,
      'PutItem',
      { TableName: 'sessions', Item: item },
      'https://dynamodb.us-east-1.amazonaws.com',
    )
    assert.equal(put.status, 200)
    assert.deepEqual(db.region(AP).tables.get('sessions')?.items, [item])
    assert.deepEqual(db.region(US).tables.get('sessions')?.items, [])
    assert.deepEqual(db.region(EU).calls, { CreateTable: 1 })
    assert.deepEqual(db.region(AP).calls, { PutItem: 1 })
    assert.deepEqual(db.region(US).calls, {}, 'a replica created with the table serves no call')

    const unsigned = await db.fetch('http://memory.test', {
      method: 'POST',
      headers: HEADERS('ListTables'),
      body: '{}',
    })
    assert.equal(unsigned.status, 400)
    assert.match(String(((await unsigned.json()) as Json).__type), /MissingAuthenticationToken/)
    const elsewhere = await send('sa-east-1', 'ListTables', {})
    assert.equal(elsewhere.status, 400)
    assert.match(String(elsewhere.body.__type), /InvalidSignatureException/)
    assert.match(
      String(elsewhere.body.message),
      /not 'sa-east-1'.*us-east-1, eu-west-1, ap-southeast-2/,
    )
  })

  test('a write is seen in its region at once, in the others once replicated', async () => {
    const { db, call, put, read, everywhere } = await setup()
    await put(US, 'a', 'one')
    await call(US, 'UpdateItem', {
      Key: { id: { S: 'a' } },
      UpdateExpression: 'SET v = :v',
      ExpressionAttributeValues: { ':v': { S: 'two' } },
    })
    await put(US, 'b', 'gone')
    await call(US, 'DeleteItem', { Key: { id: { S: 'b' } } })
    assert.equal(await read(US, 'a'), 'two')
    assert.equal(await read(EU, 'a'), undefined, 'not replicated yet')
    assert.deepEqual(db.region(AP).tables.get('sessions')?.items, [])
    await db.settle()
    assert.deepEqual(await everywhere('a'), ['two', 'two', 'two'], 'the whole item, its last state')
    assert.deepEqual(await everywhere('b'), [undefined, undefined, undefined])
  })

  test('without settle(), changes arrive after the lag; setLag() applies to changes on their way', async () => {
    const { db, put, read } = await setup({ replicationLagMs: 10 })
    await put(US, 'a', 'one')
    await sleep(100)
    assert.equal(await read(EU, 'a'), 'one', 'arrived once the lag had passed')
    db.setLag(LONG)
    await put(US, 'b', 'two')
    await sleep(20)
    assert.equal(await read(EU, 'b'), undefined, 'the lag is an hour now')
    db.setLag(0)
    assert.equal(await read(EU, 'b'), 'two', 'with no lag, due at once')
  })

  test('two concurrent writes to one item in two regions end the same everywhere: the later one', async () => {
    const { db, put, read, everywhere } = await setup()
    await put(US, 'a', 'from us')
    await put(EU, 'a', 'from eu')
    assert.equal(await read(US, 'a'), 'from us', 'each region has its own write until they meet')
    await db.settle()
    assert.deepEqual(await everywhere('a'), ['from eu', 'from eu', 'from eu'])

    // A deletion is a write too: the later of a delete and an update wins.
    await put(AP, 'b', 'updated first')
    await db.region(EU).fetch('http://memory.test', {
      method: 'POST',
      headers: HEADERS('DeleteItem'),
      body: JSON.stringify({ TableName: 'sessions', Key: { id: { S: 'b' } } }),
    })
    await db.settle()
    assert.deepEqual(await everywhere('b'), [undefined, undefined, undefined])
  })

  test("a condition sees only its region's copy, not a write that has not arrived", async () => {
    const { db, call, put, everywhere } = await setup()
    await put(US, 'a', 'from us')
    const created = await put(EU, 'a', 'from eu', 'attribute_not_exists(id)')
    assert.equal(created.status, 200, 'eu-west-1 has no item a yet')
    const updated = await call(AP, 'UpdateItem', {
      Key: { id: { S: 'a' } },
      UpdateExpression: 'SET v = :v',
      ConditionExpression: 'attribute_exists(id)',
      ExpressionAttributeValues: { ':v': { S: 'from ap' } },
    })
    assert.match(String(updated.body.__type), /ConditionalCheckFailedException/)
    await db.settle()
    assert.deepEqual(await everywhere('a'), ['from eu', 'from eu', 'from eu'])
  })

  test("a transaction's items replicate one by one, each settled last-writer-wins", async () => {
    const { db, call, put, everywhere } = await setup()
    const item = (id: string) => ({
      Put: { TableName: 'sessions', Item: { id: { S: id }, v: { S: 'tx' } } },
    })
    const tx = await call(US, 'TransactWriteItems', { TransactItems: [item('x'), item('y')] })
    assert.equal(tx.status, 200, JSON.stringify(tx.body))
    await put(AP, 'y', 'later')
    await db.settle()
    assert.deepEqual(await everywhere('x'), ['tx', 'tx', 'tx'])
    assert.deepEqual(await everywhere('y'), ['later', 'later', 'later'])
  })

  test('a region that is down refuses, neither sends nor receives, and catches up in order on up()', async () => {
    const { db, call, put, read, everywhere } = await setup()
    await put(EU, 'mine', 'written before the outage')
    const eu = db.region(EU)
    eu.down()
    assert.equal(eu.outage, 'refuse')
    await assert.rejects(
      eu.fetch('http://memory.test', {
        method: 'POST',
        headers: HEADERS('ListTables'),
        body: '{}',
      }),
      (error: Error) =>
        error instanceof TypeError && (error.cause as { code?: string }).code === 'ECONNREFUSED',
    )
    const { url, ...init } = await signed(EU, 'ListTables', {})
    await assert.rejects(db.fetch(url, init), TypeError, 'the routed fetch is refused too')

    await put(US, 'a', 'one')
    await call(US, 'UpdateItem', {
      Key: { id: { S: 'a' } },
      UpdateExpression: 'SET v = :v',
      ExpressionAttributeValues: { ':v': { S: 'two' } },
    })
    await put(AP, 'b', 'there')
    await call(AP, 'DeleteItem', { Key: { id: { S: 'b' } } })
    await db.settle()
    assert.equal(await read(AP, 'a'), 'two', 'the regions that are up have settled')
    assert.deepEqual(eu.tables.get('sessions')?.items, [
      { id: { S: 'mine' }, v: { S: 'written before the outage' } },
    ])
    assert.equal(await read(US, 'mine'), undefined, 'its own write was not sent either')
    assert.deepEqual(eu.calls, { PutItem: 1 }, 'refused requests are not counted')

    eu.up()
    assert.equal(eu.outage, undefined)
    assert.deepEqual(await everywhere('a'), ['two', 'two', 'two'])
    assert.equal(await read(EU, 'b'), undefined, 'the put then the delete, in order')
    await db.settle()
    assert.deepEqual(await everywhere('mine'), Array(3).fill('written before the outage'))
  })

  test('a region down with hang holds requests until aborted or up(); with 500 it answers 500', async () => {
    const { db, put, read } = await setup({ replicationLagMs: 0 })
    await put(US, 'a', 'one')
    const eu = db.region(EU)
    eu.down('hang')
    const get = (signal?: AbortSignal) =>
      eu.fetch('http://memory.test', {
        method: 'POST',
        headers: HEADERS('GetItem'),
        body: JSON.stringify({ TableName: 'sessions', Key: { id: { S: 'a' } } }),
        signal,
      })
    const controller = new AbortController()
    const abandoned = get(controller.signal)
    const waiting = get()
    controller.abort()
    await assert.rejects(abandoned, { name: 'AbortError' })
    eu.up()
    const answered = await waiting
    assert.equal(answered.status, 200)
    assert.deepEqual(((await answered.json()) as Json).Item, { id: { S: 'a' }, v: { S: 'one' } })
    assert.deepEqual(eu.calls, { GetItem: 1 }, 'the abandoned request was never served')

    eu.down('500')
    const failed = await get()
    assert.equal(failed.status, 500)
    assert.match(String(((await failed.json()) as Json).__type), /InternalServerError/)
    eu.up()
    assert.equal(await read(EU, 'a'), 'one')
  })

  test('a TTL deletion replicates, as the setting does', async () => {
    const { db, call, put, read, everywhere } = await setup()
    const ttl = await call(US, 'UpdateTimeToLive', {
      TimeToLiveSpecification: { AttributeName: 'expires', Enabled: true },
    })
    assert.equal(ttl.status, 200)
    const described = await call(AP, 'DescribeTimeToLive', {})
    assert.deepEqual(described.body.TimeToLiveDescription, {
      TimeToLiveStatus: 'ENABLED',
      AttributeName: 'expires',
    })
    const now = Math.floor(Date.now() / 1000)
    await call(US, 'PutItem', {
      Item: { id: { S: 'old' }, v: { S: 'x' }, expires: { N: String(now - 10) } },
    })
    await call(US, 'PutItem', {
      Item: { id: { S: 'new' }, v: { S: 'y' }, expires: { N: String(now + 3600) } },
    })
    await put(US, 'forever', 'z')
    await db.settle()
    assert.equal(db.region(EU).expire(), 1)
    assert.equal(await read(EU, 'old'), undefined, 'deleted where TTL ran')
    assert.equal(await read(US, 'old'), 'x', 'not replicated yet')
    await db.settle()
    assert.deepEqual(await everywhere('old'), [undefined, undefined, undefined])
    assert.deepEqual(await everywhere('new'), ['y', 'y', 'y'])
    assert.deepEqual(await everywhere('forever'), ['z', 'z', 'z'])
  })

  test("each region has its own indexes: an index added in one is in all, fed by each region's copy", async () => {
    const { db, call, put } = await setup({ indexLagMs: 0 })
    const added = await call(EU, 'UpdateTable', {
      AttributeDefinitions: [{ AttributeName: 'v', AttributeType: 'S' }],
      GlobalSecondaryIndexUpdates: [
        {
          Create: {
            IndexName: 'by-v',
            KeySchema: [{ AttributeName: 'v', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        },
      ],
    })
    assert.equal(added.status, 200, JSON.stringify(added.body))
    await put(US, 'a', 'red')
    const query = async (region: string) => {
      const { body } = await call(region, 'Query', {
        IndexName: 'by-v',
        KeyConditionExpression: 'v = :v',
        ExpressionAttributeValues: { ':v': { S: 'red' } },
      })
      return body.Count
    }
    assert.deepEqual([await query(US), await query(AP)], [1, 0])
    await db.settle()
    assert.deepEqual([await query(US), await query(EU), await query(AP)], [1, 1, 1])
    assert.equal(db.region(AP).tables.get('sessions')?.indexes[0].items.length, 1)
  })

  test('the library reads in one region a session written in another, once replicated', async () => {
    const db = memoryDynamoDB({ regions: REGIONS, replicationLagMs: LONG })
    const conn = {
      table: 'sessions',
      endpoint: 'http://dynamodb.test',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      fetch: db.fetch,
    }
    await createSessionTable({ ...conn, region: US })
    const app = (region: string) => {
      const a = new Hono<SessionEnv<{ n: number }>>()
      a.use(
        dynamoSession<{ n: number }>({
          ...conn,
          region,
          secret: 'a-long-test-secret-0123456789abcdef',
        }),
      )
      a.get('/', (c) => c.json({ n: c.get('session').get('n') ?? null }))
      a.post('/', (c) => {
        c.get('session').set('n', 7)
        return c.json({ ok: true })
      })
      return a
    }
    const written = await app(US).request('/', { method: 'POST' })
    const cookie = String(written.headers.get('set-cookie')).split(';')[0]
    await db.settle()
    const read = await app(EU).request('/', { headers: { cookie } })
    assert.deepEqual(await read.json(), { n: 7 })
    assert.equal(db.region(EU).calls.GetItem, 1, 'the read was served by eu-west-1')
    assert.equal(db.region(US).calls.GetItem, undefined)
  })

  test('reset() deletes every table and every pending change, and brings the regions up', async () => {
    const { db, put } = await setup()
    await put(US, 'a', 'one')
    db.region(AP).down()
    db.reset()
    assert.equal(db.region(AP).outage, undefined)
    assert.deepEqual(db.region(US).calls, {})
    for (const r of REGIONS) assert.equal(db.region(r).tables.size, 0)
  })

  test('options and arguments are checked', () => {
    const bad = [[], ['us-east-1', 'us-east-1'], 'us-east-1', ['US East'], [1]]
    for (const regions of bad) {
      assert.throws(() => memoryDynamoDB({ regions: regions as string[] }), {
        name: 'RangeError',
        message: /regions must be distinct region names/,
      })
    }
    assert.throws(() => memoryDynamoDB({ regions: REGIONS, replicationLagMs: -1 }), {
      message: /replicationLagMs must be a number of milliseconds, 0 or more, got -1/,
    })
    assert.throws(
      () => memoryDynamoDB({ replicationLagMs: 5 } as Parameters<typeof memoryDynamoDB>[0]),
      { message: /replicationLagMs needs regions/ },
    )
    const db = memoryDynamoDB({ regions: REGIONS })
    assert.throws(() => db.region('sa-east-1'), {
      message: /no region "sa-east-1"; the regions are/,
    })
    assert.throws(() => db.setLag(Number.NaN), { message: /setLag\(\): the lag must be/ })
    assert.throws(() => db.region(US).down('off' as 'hang'), {
      message: /how must be 'refuse', 'hang' or '500'/,
    })
  })

  test('without regions, the kit is one region that answers for any region, as before', async () => {
    const db = memoryDynamoDB()
    assert.deepEqual(Object.keys(db).sort(), ['fetch', 'reset', 'tables'])
    for (const region of ['us-east-1', 'anywhere']) {
      const { url, ...init } = await signed(region, 'ListTables', {})
      assert.equal((await db.fetch(url, init)).status, 200)
    }
    const unsigned = await db.fetch('http://memory.test', {
      method: 'POST',
      headers: HEADERS('ListTables'),
      body: '{}',
    })
    assert.equal(unsigned.status, 200)
  })
})
