// Table tools against DynamoDB Local: createSessionTable sets up what the middleware needs and
// refuses a table keyed otherwise; sweepExpiredSessions deletes exactly the expired items, page by
// page, each with a conditional DeleteItem, so a session extended after the Scan is kept; both
// check their options as dynamoSession() does.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  createSessionTable,
  type DynamoSessionError,
  type SweepCounts,
  sweepExpiredSessions,
} from '../../src/index.ts'
import { DELETE_CONCURRENCY } from '../../src/table.ts'
import { testApp } from '../support/app.ts'
import { testEndpoint } from '../support/backend.ts'
import { latch, sleep } from '../support/clock.ts'
import { cookieOf } from '../support/cookies.ts'
import { credentials, ddb, freshTable, scanAll } from '../support/dynamodb.ts'
import { recordingFetch } from '../support/fetch.ts'
import { dropTable, indexBuiltAfter } from '../support/users.ts'

// A month ahead: items "expired" at NOW are still live in real time, so DynamoDB Local's own TTL
// deletion (it runs every minute or so) never touches them during a test.
const NOW = Math.floor(Date.now() / 1000) + 30 * 86400
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

const opOf = (request: Request) => request.headers.get('x-amz-target')?.split('.').pop()

/** A fetch that holds every DeleteItem until `release()`; the other calls pass. */
function holdDeletes() {
  const released = latch()
  const gate = {
    held: 0,
    release: released.open,
    fetch: (async (input, init) => {
      const request = new Request(input, init)
      if (opOf(request) === 'DeleteItem') {
        gate.held++
        await released.opened
      }
      return fetch(request)
    }) as typeof fetch,
    /** Resolves once `n` deletes are waiting. */
    async waitFor(n: number) {
      for (let waited = 0; gate.held < n; waited += 10) {
        if (waited > 20_000) throw new Error(`only ${gate.held} of ${n} deletes arrived`)
        await sleep(10)
      }
    },
  }
  return gate
}

describe('createSessionTable', () => {
  test('creates an on-demand table keyed by a string id, with TTL on expires, and is idempotent', async () => {
    const table = `create-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
    const conn = { table, region: 'us-east-1', endpoint: testEndpoint(), credentials }
    assert.deepEqual(await createSessionTable(conn), { created: true, table, indexAdded: false })

    const { Table } = await ddb('DescribeTable', { TableName: table })
    assert.equal(Table.TableStatus, 'ACTIVE')
    assert.deepEqual(Table.KeySchema, [{ AttributeName: 'id', KeyType: 'HASH' }])
    // uid and created key the user index (tests/suite/user-index.test.ts).
    assert.deepEqual(
      Table.AttributeDefinitions.map((a: { AttributeName: string }) => a.AttributeName).sort(),
      ['created', 'id', 'uid'],
    )
    assert.equal(Table.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST')
    const ttl = await ddb('DescribeTimeToLive', { TableName: table })
    assert.equal(ttl.TimeToLiveDescription.TimeToLiveStatus, 'ENABLED')
    assert.equal(ttl.TimeToLiveDescription.AttributeName, 'expires')

    // A second call finds the table and TTL in place, changes nothing and keeps the items.
    await ddb('PutItem', { TableName: table, Item: itemOf(TOTAL - 1) })
    const counter = recordingFetch()
    assert.deepEqual(await createSessionTable({ ...conn, fetch: counter.fetch }), {
      created: false,
      table,
      indexAdded: false,
    })
    assert.deepEqual(counter.ops(), ['CreateTable', 'DescribeTable', 'DescribeTimeToLive'])
    assert.equal((await scanAll(table)).length, 1)
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
    assert.deepEqual(result, { created: true, table, indexAdded: false })
    const { Table } = await ddb('DescribeTable', { TableName: table })
    assert.equal(Table.TableName, table)
  })

  /** A table made by hand with the given key, as someone else might have made it. */
  async function foreignTable(
    keys: [name: string, type: 'S' | 'N', role: 'HASH' | 'RANGE'][],
    ttlOn?: string,
  ) {
    const table = `foreign-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
    await ddb('CreateTable', {
      TableName: table,
      AttributeDefinitions: keys.map(([AttributeName, AttributeType]) => ({
        AttributeName,
        AttributeType,
      })),
      KeySchema: keys.map(([AttributeName, , KeyType]) => ({ AttributeName, KeyType })),
      BillingMode: 'PAY_PER_REQUEST',
    })
    if (ttlOn) {
      await ddb('UpdateTimeToLive', {
        TableName: table,
        TimeToLiveSpecification: { AttributeName: ttlOn, Enabled: true },
      })
    }
    return { table, region: 'us-east-1', endpoint: testEndpoint(), credentials }
  }

  for (const [what, keys, shown] of [
    ['another hash key', [['user', 'S', 'HASH']], 'user (S, HASH)'],
    ['a numeric id', [['id', 'N', 'HASH']], 'id (N, HASH)'],
    [
      'a sort key besides id',
      [
        ['id', 'S', 'HASH'],
        ['created', 'N', 'RANGE'],
      ],
      'id (S, HASH) + created (N, RANGE)',
    ],
  ] as const) {
    test(`an existing table with ${what} fails with KEY_SCHEMA saying what differs`, async () => {
      const conn = await foreignTable(keys.map((k) => [...k]))
      const counter = recordingFetch()
      await assert.rejects(
        createSessionTable({ ...conn, fetch: counter.fetch }),
        (error: DynamoSessionError) => {
          assert.equal(error.code, 'KEY_SCHEMA')
          assert.ok(error.message.includes(`table "${conn.table}"`), error.message)
          assert.ok(error.message.includes(`the key ${shown};`), error.message)
          assert.match(error.message, /sessions need the key id \(S, HASH\) alone/)
          return true
        },
      )
      assert.ok(!counter.ops().includes('UpdateTimeToLive'), 'nothing is changed')
      const ttl = await ddb('DescribeTimeToLive', { TableName: conn.table })
      assert.equal(ttl.TimeToLiveDescription.TimeToLiveStatus, 'DISABLED')
    })
  }

  test('an existing table with TTL on another attribute fails with KEY_SCHEMA naming both', async () => {
    const conn = await foreignTable([['id', 'S', 'HASH']], 'ttl')
    await assert.rejects(createSessionTable(conn), (error: DynamoSessionError) => {
      assert.equal(error.code, 'KEY_SCHEMA')
      assert.match(error.message, /has TTL on the attribute "ttl"; sessions need it on "expires"/)
      return true
    })
    const ttl = await ddb('DescribeTimeToLive', { TableName: conn.table })
    assert.equal(ttl.TimeToLiveDescription.AttributeName, 'ttl')
  })

  test('an existing table keyed by id without TTL gets TTL on expires', async () => {
    const conn = await foreignTable([['id', 'S', 'HASH']])
    try {
      // The user index it also gets is built in DynamoDB Local's own time (tests/support/users.ts).
      assert.deepEqual(await createSessionTable({ ...conn, fetch: indexBuiltAfter(0).fetch }), {
        created: false,
        table: conn.table,
        indexAdded: true,
      })
      const ttl = await ddb('DescribeTimeToLive', { TableName: conn.table })
      assert.equal(ttl.TimeToLiveDescription.TimeToLiveStatus, 'ENABLED')
      assert.equal(ttl.TimeToLiveDescription.AttributeName, 'expires')
    } finally {
      await dropTable(conn.table)
    }
  })
})

describe('sweepExpiredSessions', () => {
  test('deletes exactly the 600 expired of 1,000 items over several Scan pages, a few deletes at a time', async () => {
    const conn = await freshTable('sweep')
    await seed(
      conn.table,
      Array.from({ length: TOTAL }, (_, i) => itemOf(i)),
    )
    let inFlight = 0
    let maxInFlight = 0
    const counter = recordingFetch(async (input, init) => {
      const request = new Request(input, init)
      const deleting = opOf(request) === 'DeleteItem'
      if (deleting) maxInFlight = Math.max(maxInFlight, ++inFlight)
      try {
        // A turn of the event loop, so overlap shows even where DynamoDB answers at once.
        if (deleting) await sleep(1)
        return await fetch(request)
      } finally {
        if (deleting) inFlight--
      }
    })
    const progress: SweepCounts[] = []
    const counts = await sweepExpiredSessions({
      ...conn,
      fetch: counter.fetch,
      now: NOW,
      onProgress: (p) => progress.push(p),
    })
    assert.deepEqual(counts, { scanned: TOTAL, deleted: EXPIRED, kept: 0 })

    const scans = counter.calls.filter((c) => c.op === 'Scan')
    assert.ok(scans.length > 1, `the table was scanned in ${scans.length} page(s)`)
    assert.equal(scans[0].body.ExclusiveStartKey, undefined)
    for (const scan of scans.slice(1)) assert.ok(scan.body.ExclusiveStartKey, 'pages continue')
    const deletes = counter.calls.filter((c) => c.op === 'DeleteItem')
    assert.equal(deletes.length, EXPIRED, 'each expired item is deleted once')
    assert.equal(new Set(deletes.map((c) => c.body.Key.id.S)).size, EXPIRED)
    for (const { body } of deletes) {
      assert.equal(body.ConditionExpression, '#e < :now', 'each delete is conditional')
      assert.deepEqual(body.ExpressionAttributeNames, { '#e': 'expires' })
      assert.deepEqual(body.ExpressionAttributeValues, { ':now': { N: String(NOW) } })
    }
    assert.ok(!counter.ops().includes('BatchWriteItem'), 'no unconditional batch delete')
    assert.ok(maxInFlight > 1, 'deletes run in parallel')
    assert.ok(maxInFlight <= DELETE_CONCURRENCY, `at most ${DELETE_CONCURRENCY} at a time`)

    // A report per page and per delete, counts only growing; the last one has the totals.
    assert.equal(progress.length, scans.length + EXPIRED)
    assert.deepEqual(progress.at(-1), counts)
    for (let i = 1; i < progress.length; i++) {
      const [a, b] = [progress[i - 1], progress[i]]
      assert.equal(b.scanned - a.scanned + b.deleted - a.deleted + b.kept - a.kept > 0, true)
    }

    // The 400 live items are all there, unchanged.
    const left = await scanAll(conn.table)
    assert.equal(left.length, TOTAL - EXPIRED)
    left.sort((a, b) => a.id.S.localeCompare(b.id.S))
    assert.deepEqual(
      left,
      Array.from({ length: TOTAL - EXPIRED }, (_, i) => itemOf(EXPIRED + i)),
    )

    // Nothing is left to sweep.
    assert.deepEqual(await sweepExpiredSessions({ ...conn, now: NOW }), {
      scanned: TOTAL - EXPIRED,
      deleted: 0,
      kept: 0,
    })
  })

  test('a session a request extends while the deletes are held is kept, and counted as kept', async () => {
    const conn = await freshTable('sweep-race')
    const app = testApp(conn) // sessions of one day
    const cookies: string[] = []
    for (let i = 0; i < 3; i++) {
      cookies.push(cookieOf(await app.post('/set/a/a')))
    }
    // Two days ahead, all three sessions look expired to the Scan.
    const sweepNow = Math.floor(Date.now() / 1000) + 2 * 86400
    const gate = holdDeletes()
    const sweeping = sweepExpiredSessions({ ...conn, fetch: gate.fetch, now: sweepNow })
    await gate.waitFor(3)

    // Meanwhile a request through an app with three-day sessions changes the second session,
    // which moves its expiry past the sweep's now.
    const longer = testApp(conn, { maxAge: 3 * 86400 })
    const res = await longer.post('/set/b/b', cookies[1])
    assert.equal(res.status, 200)
    const [extended] = await scanAll(conn.table).then((items) =>
      items.filter((item) => Number(item.expires.N) >= sweepNow),
    )
    assert.ok(extended, 'the request moved one expiry past the sweep time')

    gate.release()
    assert.deepEqual(await sweeping, { scanned: 3, deleted: 2, kept: 1 })
    const left = await scanAll(conn.table)
    assert.deepEqual(left, [extended])
    assert.deepEqual(await longer.whoami(cookies[1]), { a: 'a', b: 'b' })
    for (const cookie of [cookies[0], cookies[2]]) {
      assert.equal(await app.whoami(cookie), null)
    }
  })

  test('deletes expired tombstones and items of any shape, and keeps items without expires', async () => {
    const conn = await freshTable('sweep-shapes')
    const expired = { N: String(NOW - 5) }
    await seed(conn.table, [
      // A tombstone of an ended session: no data.
      { id: { S: 'tomb-old' }, end: { S: '1' }, expires: expired, v: { N: '3' }, w: { M: {} } },
      { id: { S: 'tomb-new' }, end: { S: '1' }, expires: { N: String(NOW + 5) }, v: { N: '1' } },
      { id: { S: 'bare-old' }, expires: expired },
      { id: { S: 'no-expiry' }, data: { M: {} } },
    ])
    const counts = await sweepExpiredSessions({ ...conn, now: NOW })
    assert.deepEqual(counts, { scanned: 4, deleted: 2, kept: 0 })
    const left = (await scanAll(conn.table)).map((item) => item.id.S).sort()
    assert.deepEqual(left, ['no-expiry', 'tomb-new'])
  })

  test('another error on a delete stops the sweep with that error; nothing else is lost', async () => {
    const conn = await freshTable('sweep-denied')
    await seed(
      conn.table,
      Array.from({ length: 40 }, (_, i) => itemOf(i)),
    )
    const denied: typeof fetch = async (input, init) => {
      const request = new Request(input, init)
      if (opOf(request) !== 'DeleteItem') return fetch(request)
      return Response.json(
        {
          __type: 'com.amazon.coral.service#AccessDeniedException',
          message: 'not allowed: dynamodb:DeleteItem',
        },
        { status: 400 },
      )
    }
    await assert.rejects(
      sweepExpiredSessions({ ...conn, fetch: denied, now: NOW }),
      (error: DynamoSessionError) => error.code === 'ACCESS_DENIED',
    )
    assert.equal((await scanAll(conn.table)).length, 40)
  })

  test('an empty table costs one Scan and no write', async () => {
    const conn = await freshTable('empty')
    const counter = recordingFetch()
    assert.deepEqual(await sweepExpiredSessions({ ...conn, fetch: counter.fetch }), {
      scanned: 0,
      deleted: 0,
      kept: 0,
    })
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

describe('table tool options are checked as dynamoSession() checks its own', () => {
  const base = { table: 'options-table', region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }
  const env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
  }
  const both: [string, unknown, RegExp][] = [
    ['options that are not an object', null, /^options must be an object, got null$/],
    [
      'an unknown option, with the allowed ones',
      { ...base, tabel: 'x' },
      /^unknown option tabel \(did you mean table\?\); allowed: table, region, endpoint, fetch, retry\.attempts, retry\.timeoutMs, retry\.budgetMs, credentials/,
    ],
    ['an unknown retry option', { ...base, retry: { tries: 2 } }, /^unknown option retry\.tries;/],
    ['retry that is not an object', { ...base, retry: 3 }, /^retry must be an object, got 3$/],
    [
      'retry.attempts 0',
      { ...base, retry: { attempts: 0 } },
      /^retry\.attempts must be a positive integer number of attempts, got 0$/,
    ],
    [
      'a short table name',
      { ...base, table: 'ab' },
      /^table must be a DynamoDB table name .*got "ab"$/,
    ],
    [
      'a region with spaces',
      { ...base, region: 'us east 1' },
      /^region must be an AWS region .*got "us east 1"$/,
    ],
    [
      'an endpoint without scheme',
      { ...base, endpoint: 'localhost:8000' },
      /^endpoint must be an http\(s\) URL, got "localhost:8000"$/,
    ],
    [
      'empty credentials',
      { ...base, credentials: { accessKeyId: '', secretAccessKey: 'x' } },
      /^credentials must be \{ accessKeyId, secretAccessKey, sessionToken\? \} with non-empty strings, got an object$/,
    ],
    [
      'a credentials function',
      { ...base, credentials: () => credentials },
      /^credentials must be .* got a function$/,
    ],
    [
      'a fetch that is not a function',
      { ...base, fetch: 'fetch' },
      /^fetch must be a function, got "fetch"$/,
    ],
    [
      'env that is not an object',
      { ...base, env: 'prod' },
      /^env must be an object of environment variables, got "prod"$/,
    ],
    [
      'a malformed AWS_REGION',
      { env: { ...env, AWS_REGION: 'us east 1' } },
      /^the environment variable AWS_REGION must be an AWS region .*got "us east 1"$/,
    ],
    [
      'a malformed SESSION_TABLE',
      { env: { ...env, SESSION_TABLE: 'a b' } },
      /^the environment variable SESSION_TABLE must be a DynamoDB table name/,
    ],
    [
      'a malformed AWS_ENDPOINT_URL',
      { env: { ...env, AWS_ENDPOINT_URL_DYNAMODB: '', AWS_ENDPOINT_URL: 'localhost' } },
      /^the environment variable AWS_ENDPOINT_URL must be an http\(s\) URL, got "localhost"$/,
    ],
  ]
  const sweepOnly: [string, unknown, RegExp][] = [
    [
      'now in milliseconds',
      { ...base, now: 1_800_000_000_000 },
      /^now must be a time in epoch seconds, an integer such as Math\.floor\(Date\.now\(\) \/ 1000\), got 1800000000000, which looks like milliseconds$/,
    ],
    [
      'a fractional now',
      { ...base, now: 1_800_000_000.5 },
      /^now must be a time in epoch seconds.*got 1800000000\.5$/,
    ],
    ['a negative now', { ...base, now: -1 }, /^now must be .*got -1$/],
    ['now as a string', { ...base, now: '1800000000' }, /^now must be .*got "1800000000"$/],
    [
      'an onProgress that is not a function',
      { ...base, onProgress: true },
      /^onProgress must be a function, got true$/,
    ],
  ]
  const tools = [
    ['sweepExpiredSessions', sweepExpiredSessions, [...both, ...sweepOnly]],
    [
      'createSessionTable',
      createSessionTable,
      [...both, ['now, which only the sweep takes', { ...base, now: 1 }, /^unknown option now;/]],
    ],
  ] as const
  for (const [tool, run, cases] of tools) {
    for (const [what, options, message] of cases) {
      test(`${tool}() refuses ${what} with INVALID_OPTIONS, before any call`, async () => {
        const counter = recordingFetch()
        const given =
          options && typeof options === 'object' && !('fetch' in options)
            ? { ...options, fetch: counter.fetch }
            : options
        await assert.rejects(
          (run as (o: unknown) => Promise<unknown>)(given),
          (error: DynamoSessionError) => {
            assert.equal(error.code, 'INVALID_OPTIONS')
            assert.ok(error.message.startsWith(`${tool}: `), error.message)
            assert.match(error.message.slice(tool.length + 2), message)
            return true
          },
        )
        assert.deepEqual(counter.ops(), [])
      })
    }
  }

  test('a now in epoch seconds is taken, and the environment is read only for unset options', async () => {
    const conn = await freshTable('options-ok')
    const counts = await sweepExpiredSessions({
      ...conn,
      now: NOW,
      env: { AWS_REGION: 'us east 1', SESSION_TABLE: 'a b', AWS_ENDPOINT_URL_DYNAMODB: 'x' },
    })
    assert.deepEqual(counts, { scanned: 0, deleted: 0, kept: 0 })
  })
})
