// globalTable(): sessions on a DynamoDB global table, on the testing kit's multi-region mode
// (memoryDynamoDB({ regions, replicationLagMs })). Page views read the nearest replica, changes
// go to the session's home, the cookie's version makes a browser read its own writes, ends are
// never undone through a lagging replica, and a home region that fails is left for the nearest
// healthy one by the breaker. DynamoDB Local has no regions: these run on the kit alone, whatever
// the suite's backend. Calls are counted per region, so none of this passes without the routing.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { CookieSigner, storedKey } from '../../src/cookie.ts'
import {
  createSessionTable,
  type DynamoSessionError,
  dynamoSession,
  type GlobalTableOptions,
  globalTable,
  listSessions,
  nearestByCoordinates,
  revokeSessions,
  type SessionEnv,
} from '../../src/index.ts'
import { type MemoryGlobalDynamoDB, memoryDynamoDB } from '../../src/testing/index.ts'
import { sleep } from '../support/clock.ts'
import { browserOf, regionApp } from '../support/region-browser.ts'

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2']
const [US, EU, AP] = REGIONS
/** Long enough that nothing arrives by itself while a test runs: settle() delivers. */
const LONG = 3_600_000
const SECRET = 'a-secret-for-tests-only-0123456789abcdef'
const CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'x' }

type Data = { n: number; note: string }

/** Calls per region and operation since the last `counted()`, and each region's copies. */
function countersOf(db: MemoryGlobalDynamoDB) {
  /** Calls per region and operation since the last `counted()`. */
  let last: Record<string, Record<string, number>> = {}
  const counted = () => {
    const now = Object.fromEntries(REGIONS.map((r) => [r, { ...db.region(r).calls }]))
    const delta = Object.fromEntries(
      REGIONS.map((r) => [
        r,
        Object.fromEntries(
          Object.entries(now[r])
            .map(([op, n]) => [op, n - (last[r]?.[op] ?? 0)])
            .filter(([, n]) => n),
        ),
      ]),
    )
    last = now
    return delta
  }
  /** What each region's copy of every item holds of `key` (live items only). */
  const copies = (attribute: string) =>
    REGIONS.map((r) =>
      (db.region(r).tables.get('sessions')?.items ?? [])
        .filter((item) => !item.end)
        .map((item) => JSON.stringify((item.data as { M: Record<string, unknown> }).M[attribute])),
    )
  return { counted, copies }
}

/** Three regions, a `sessions` global table, and an app on it whose nearest region is `x-near`. */
async function world(
  options: { lagMs?: number; breaker?: GlobalTableOptions['breaker']; locking?: boolean } = {},
) {
  const db = memoryDynamoDB({ regions: REGIONS, replicationLagMs: options.lagMs ?? LONG })
  const endpoint = 'http://memory.test'
  await createSessionTable({
    table: 'sessions',
    region: US,
    endpoint,
    credentials: CREDENTIALS,
    fetch: db.fetch,
  })
  const table = globalTable({
    name: 'sessions',
    regions: REGIONS,
    nearest: (c) => c.req.header('x-near') ?? US,
    endpoint: () => endpoint,
    breaker: options.breaker,
  })
  const { app, errors } = regionApp({
    table,
    credentials: CREDENTIALS,
    fetch: db.fetch,
    secret: SECRET,
    retry: { attempts: 2, timeoutMs: 300, budgetMs: 2000 },
    locking: options.locking,
  })
  app.post('/login/:user', (c) => {
    c.get('session').regenerate({ userId: c.req.param('user') })
    return c.text('welcome')
  })

  return { db, app, table, browser: browserOf(app), ...countersOf(db), errors }
}

describe('globalTable(): where each call goes', () => {
  test('page views are served by the nearest replica, changes by the home region', async () => {
    const { db, browser, counted } = await world()
    const b = browser()
    assert.equal((await b.send('POST', '/note/hello', US)).status, 200)
    assert.match(b.cookie, /^sid=[\w-]{43}\.[\w-]{43}$/, 'the session cookie as ever')
    assert.match(b.region, /^[\w-]{16}~us-east-1~1\.[\w-]{43}$/, 'home and version, signed')
    await db.settle()
    counted()

    assert.deepEqual(await b.get(EU), { note: 'hello' })
    assert.deepEqual(await b.get(AP), { note: 'hello' })
    assert.deepEqual(counted(), { [US]: {}, [EU]: { GetItem: 1 }, [AP]: { GetItem: 1 } })

    const change = await b.send('POST', '/inc', EU)
    assert.equal(change.status, 200)
    assert.deepEqual(
      counted(),
      { [US]: { UpdateItem: 1 }, [EU]: { GetItem: 1 }, [AP]: {} },
      'read near, written home',
    )
    assert.match(b.region, /~us-east-1~2\./, 'the region cookie carries the version written')
    // The session cookie is sent only by its own rules (here at most a refresh of its expiry,
    // when a second has passed since it was written): never for the version.
    const sessionCookie = b.cookie
    const sent = change.headers.getSetCookie().map((c) => c.split(';')[0])
    assert.ok(sent.some((c) => c.startsWith('sid-r=')))
    assert.ok(
      sent.every((c) => c.startsWith('sid-r=') || c === sessionCookie),
      String(sent),
    )
    const home = db.region(US).tables.get('sessions')?.items[0]
    assert.deepEqual(home?.home, { S: US }, 'the item records its home')
  })

  test('a new session is created in the nearest region, which becomes its home', async () => {
    const { db, browser, counted } = await world()
    const b = browser()
    counted()
    await b.send('POST', '/note/g-day', AP)
    assert.deepEqual(counted(), { [US]: {}, [EU]: {}, [AP]: { PutItem: 1 } })
    assert.match(b.region, /~ap-southeast-2~1\./)
    await db.settle()
    await b.send('POST', '/inc', EU)
    assert.deepEqual(counted(), { [US]: {}, [EU]: { GetItem: 1 }, [AP]: { UpdateItem: 1 } })
  })

  test('a browser reads its own writes with 1 s of replication lag', async () => {
    const { browser, counted } = await world({ lagMs: 1000 })
    const b = browser()
    await b.send('POST', '/note/first', US)
    await sleep(1100)
    counted()

    await b.send('POST', '/note/second', EU) // written in us-east-1, 1 s from eu-west-1
    counted()
    assert.deepEqual(await b.get(EU), { note: 'second' }, 'its own write, at once')
    assert.deepEqual(
      counted(),
      { [US]: { GetItem: 1 }, [EU]: { GetItem: 1 }, [AP]: {} },
      'the replica was behind the cookie: the read went home',
    )

    await sleep(1100)
    assert.deepEqual(await b.get(EU), { note: 'second' })
    assert.deepEqual(counted(), { [US]: {}, [EU]: { GetItem: 1 }, [AP]: {} }, 'caught up: near')
  })

  test('a session cookie without a region cookie (a single-region one) keeps working', async () => {
    const { db, app, browser, counted } = await world()
    // A session written by a single-region app on the table's us-east-1 copy, before the switch.
    const single = new Hono<SessionEnv<Data>>()
    single.use(
      dynamoSession<Data>({
        table: 'sessions',
        region: US,
        endpoint: 'http://memory.test',
        credentials: CREDENTIALS,
        fetch: db.fetch,
        secret: SECRET,
      }),
    )
    single.post('/note/:note', (c) => {
      c.get('session').set('note', c.req.param('note'))
      return c.text('ok')
    })
    const res = await single.request('/note/old', { method: 'POST' })
    const cookie = res.headers.getSetCookie()[0].split(';')[0]
    assert.equal(res.headers.getSetCookie().length, 1, 'no region cookie')
    assert.ok(app)
    counted()
    // Not replicated yet: the nearest copy has nothing, so the first region is asked.
    const b = browser(cookie)
    assert.deepEqual(await b.get(EU), { note: 'old' })
    assert.deepEqual(counted(), { [US]: { GetItem: 1 }, [EU]: { GetItem: 1 }, [AP]: {} })
    await b.send('POST', '/inc', EU)
    assert.match(b.region, /~us-east-1~2\./, 'its first write gives it a region cookie')

    // A region cookie that does not verify is ignored; one signed with the secret is honoured.
    const prefix = (await storedKey(cookie.slice(4, 47))).slice(0, 16)
    const forged = `${cookie}; sid-r=${prefix}~us-east-1~99`
    const signed = await new CookieSigner([SECRET]).sign(`${prefix}~us-east-1~99`)
    await db.settle()
    counted()
    assert.deepEqual(await browser(forged).get(EU), { note: 'old', n: 1 })
    assert.deepEqual(counted(), { [US]: {}, [EU]: { GetItem: 1 }, [AP]: {} }, 'forged: near')
    assert.deepEqual(await browser(`${cookie}; sid-r=${signed}`).get(EU), { note: 'old', n: 1 })
    assert.deepEqual(
      counted(),
      { [US]: { GetItem: 1 }, [EU]: { GetItem: 1 }, [AP]: {} },
      'a replica below the signed version is not trusted',
    )
  })
})

describe('globalTable(): locking', () => {
  test("the lease is taken at the session's home, also without a region cookie", async () => {
    const { db, browser, counted } = await world({ locking: true })
    const b = browser()
    await b.send('POST', '/note/locked', AP)
    await db.settle()
    counted()
    assert.equal((await b.send('POST', '/inc', EU)).status, 200)
    assert.deepEqual(
      counted(),
      { [US]: {}, [EU]: {}, [AP]: { UpdateItem: 2 } },
      'the take (which reads) and the save, at the home',
    )
    // A cookie from before globalTable() (no region cookie): its session is in the first region.
    const single = new Hono<SessionEnv<Data>>()
    single.use(
      dynamoSession<Data>({
        table: 'sessions',
        region: US,
        endpoint: 'http://memory.test',
        credentials: CREDENTIALS,
        fetch: db.fetch,
        secret: SECRET,
      }),
    )
    single.post('/', (c) => {
      c.get('session').set('note', 'old')
      return c.text('ok')
    })
    const old = (await single.request('/', { method: 'POST' })).headers.getSetCookie()[0]
    await db.settle()
    counted()
    assert.equal((await browser(old.split(';')[0]).send('POST', '/inc', EU)).status, 200)
    assert.deepEqual(counted(), { [US]: { UpdateItem: 2 }, [EU]: {}, [AP]: {} })
  })
})

describe('globalTable(): ends replicate', () => {
  test('a logout in one region is never undone through another', async () => {
    const { db, browser, counted, errors } = await world()
    const a = browser()
    await a.send('POST', '/note/mine', US)
    await db.settle()
    const tab = browser(a.header) // another tab of the same browser, sending before it learns
    counted()
    assert.equal((await a.send('POST', '/logout', EU)).status, 200)
    assert.equal(a.cookie, '')
    assert.deepEqual(counted()[US].PutItem, 1, 'the tombstone is written home')

    // Within the replication lag, eu-west-1 has not seen the end: it may still serve a page
    // view (the documented window), but no change: writes go home, where the session ended.
    assert.deepEqual(await tab.get(EU), { note: 'mine' })
    const change = await tab.send('POST', '/note/back', EU)
    assert.equal(change.status, 409)
    assert.equal(errors.at(-1)?.code, 'SESSION_GONE')
    assert.equal((await tab.send('POST', '/inc', AP)).status, 409)

    await db.settle()
    assert.deepEqual(await tab.get(EU), {}, 'replicated: ended everywhere')
    assert.deepEqual(await tab.get(AP), {})
    for (const r of REGIONS) {
      const items = db.region(r).tables.get('sessions')?.items ?? []
      assert.ok(items.length && items.every((item) => item.end), `only the tombstone in ${r}`)
    }
  })
})

describe('globalTable(): the user tools', () => {
  test('a revocation from any region ends the session at its home: no write there undoes it', async () => {
    const { db, table, browser, counted } = await world()
    const b = browser()
    assert.equal((await b.send('POST', '/login/ada', EU)).status, 200) // homed in eu-west-1
    await b.send('POST', '/note/before', EU)
    await db.settle()
    const tab = browser(b.header)
    const tools = { table, region: US, credentials: CREDENTIALS, fetch: db.fetch }
    assert.deepEqual(
      (await listSessions({ ...tools, userId: 'ada' })).map((s) => s.expires > Date.now()),
      [true],
    )
    counted()
    assert.deepEqual(await revokeSessions({ ...tools, userId: 'ada', indexLagMs: 10 }), {
      revoked: 1,
    })
    const calls = counted()
    assert.equal(calls[US].Query, 2, 'the index read where the tool runs')
    assert.equal(calls[EU].PutItem, 1, 'the tombstone at the home')
    assert.equal(calls[US].PutItem, undefined, 'not where the tool runs')

    // Not replicated yet: us-east-1 still shows the session, but every change goes home.
    assert.equal((await tab.send('POST', '/note/after', US)).status, 409)
    assert.equal((await tab.send('POST', '/note/after', EU)).status, 409)
    await db.settle()
    for (const near of REGIONS) assert.deepEqual(await tab.get(near), {}, near)
  })
})

describe('globalTable(): failover', () => {
  test('home region down mid-traffic: users stay signed in, changes move after the breaker opens, and come back after a probe', async () => {
    const { db, browser, counted, copies, table } = await world({
      lagMs: 50,
      breaker: { failures: 3, cooldownMs: 400 },
    })
    const b = browser()
    let acknowledged = 0
    const inc = async (near: string) => {
      const res = await b.send('POST', '/inc', near)
      if (res.status === 200) acknowledged++
      return res.status
    }
    await b.send('POST', '/note/signed-in', US)
    for (let i = 0; i < 3; i++) assert.equal(await inc(EU), 200)
    await db.settle()

    db.region(US).down()
    assert.deepEqual(await b.get(EU), { note: 'signed-in', n: 3 }, 'page views go on')
    const during: number[] = []
    for (let i = 0; i < 8; i++) during.push(await inc(EU))
    const unavailable = during.filter((s) => s === 503).length
    assert.ok(unavailable >= 1 && unavailable <= 3, `503 only until the breaker opens: ${during}`)
    assert.deepEqual(during.slice(unavailable), Array(8 - unavailable).fill(200), String(during))
    assert.ok(table.isOpen(US))
    assert.match(b.region, /~eu-west-1~\d+\./, 'eu-west-1 is the new home, in the region cookie')
    // A browser next to the fallen region is served by the next one.
    assert.deepEqual(await b.get(US), { note: 'signed-in', n: acknowledged })

    db.region(US).up()
    await sleep(450)
    counted()
    const probe = browser()
    assert.equal((await probe.send('POST', '/note/new', US)).status, 200, 'the probe')
    assert.equal(table.isOpen(US), false, 'closed by the probe')
    assert.deepEqual(counted()[US], { PutItem: 1 }, 'new sessions are homed in us-east-1 again')
    await db.settle()
    assert.deepEqual(await b.get(US), { note: 'signed-in', n: acknowledged })
    assert.deepEqual(counted()[US], { GetItem: 1 }, 'page views near us-east-1 read it again')
    // Nothing answered 2xx was lost: every region holds every acknowledged increment.
    for (const [i, values] of copies('n').entries()) {
      assert.ok(values.includes(JSON.stringify({ N: String(acknowledged) })), REGIONS[i])
    }
  })

  test('five browsers at once, the home region down and back mid-traffic: no 2xx change lost outside the window', async () => {
    const { db, browser, table } = await world({
      lagMs: 0,
      breaker: { failures: 3, cooldownMs: 200 },
    })
    const browsers = Array.from({ length: 5 }, () => browser())
    const acknowledged = browsers.map(() => 0)
    const statuses: number[] = []
    await Promise.all(browsers.map((b) => b.send('POST', '/note/hi', US)))
    const run = async (i: number) => {
      for (let round = 0; round < 12; round++) {
        const status = (await browsers[i].send('POST', '/inc', [EU, AP, US][round % 3])).status
        statuses.push(status)
        if (status === 200) acknowledged[i]++
        await sleep(5)
      }
    }
    /** A browser's count in a region's copy. */
    const count = async (i: number, region: string) => {
      const key = await storedKey(browsers[i].cookie.slice(4, 47))
      const item = db
        .region(region)
        .tables.get('sessions')
        ?.items.find((x) => x.id.S === key)
      return Number((item?.data as { M: { n?: { N: string } } })?.M.n?.N ?? 0)
    }
    const traffic = Promise.all(browsers.map((_, i) => run(i)))
    await sleep(40)
    db.region(US).down()
    // The documented window: increments us-east-1 had acknowledged but not yet sent anywhere.
    const unreplicated = await Promise.all(
      browsers.map(
        async (_, i) => (await count(i, US)) - Math.max(await count(i, EU), await count(i, AP)),
      ),
    )
    await sleep(120)
    db.region(US).up()
    await traffic
    await sleep(250) // past the cooldown: the probe brings us-east-1 back
    for (const b of browsers) await b.send('POST', '/note/after', US)
    assert.equal(table.isOpen(US), false)
    await db.settle()

    const unavailable = statuses.filter((s) => s === 503).length
    assert.ok(
      unavailable <= 3 + browsers.length,
      `503 only while the breaker opens: ${unavailable}`,
    )
    assert.deepEqual(
      statuses.filter((s) => s !== 200 && s !== 503),
      [],
      'nothing but 200 and 503: no session lost',
    )
    for (const [i, b] of browsers.entries()) {
      const n = (await b.get(EU)).n ?? 0
      assert.ok(
        n <= acknowledged[i] && n >= acknowledged[i] - unreplicated[i],
        `browser ${i}: ${n} kept of ${acknowledged[i]} acknowledged, ${unreplicated[i]} unreplicated at the outage`,
      )
      for (const near of REGIONS) assert.deepEqual(await b.get(near), { note: 'after', n }, near)
    }
  })

  test('what a failover may lose: a write not yet replicated when the home region fell', async () => {
    const { db, browser, copies } = await world({ breaker: { failures: 1, cooldownMs: 60_000 } })
    const b = browser()
    await b.send('POST', '/inc', US)
    await db.settle()
    assert.equal((await b.send('POST', '/note/unreplicated', US)).status, 200)
    db.region(US).down() // before its last write reached any other region

    // eu-west-1 is behind the cookie: the read goes home, fails (opening this breaker at one
    // failure), and the newest copy left is taken; the write goes to eu-west-1.
    assert.equal((await b.send('POST', '/inc', EU)).status, 200)
    assert.match(b.region, /~eu-west-1~2\./)
    db.region(US).up()
    await db.settle()
    // Last writer wins: eu-west-1's later write replaced the home's unreplicated one everywhere.
    assert.deepEqual(await b.get(EU), { n: 2 })
    assert.deepEqual(copies('note'), [[undefined], [undefined], [undefined]])
    assert.deepEqual(copies('n'), [['{"N":"2"}'], ['{"N":"2"}'], ['{"N":"2"}']])
  })

  test('while a breaker is open, no call waits on its region (a hanging home)', async () => {
    const { db, browser } = await world({ breaker: { failures: 1, cooldownMs: 60_000 } })
    const b = browser()
    await b.send('POST', '/note/first', US)
    await db.settle()
    await b.send('POST', '/note/second', US) // not replicated: eu-west-1 is behind the cookie
    db.region(US).down('hang')
    const first = await b.send('GET', '/', EU) // waits one attempt's time on the home, then opens it
    assert.equal(first.status, 200)
    let started = performance.now()
    assert.deepEqual(await b.get(EU), { note: 'first' }, 'the newest copy left (the lost window)')
    assert.ok(performance.now() - started < 300, 'no wait on the open region (one attempt: 300 ms)')
    started = performance.now()
    assert.equal((await b.send('POST', '/inc', EU)).status, 200)
    assert.ok(performance.now() - started < 300, 'written in eu-west-1 at once')
    db.region(US).up()
  })

  test('a failed condition never opens the breaker; a failed read tries the next region', async () => {
    const { db, browser, counted, table } = await world({
      breaker: { failures: 1, cooldownMs: 60_000 },
    })
    const a = browser()
    await a.send('POST', '/note/x', US)
    await db.settle()
    const tab = browser(a.header)
    await a.send('POST', '/logout', US)
    for (let i = 0; i < 3; i++) assert.equal((await tab.send('POST', '/inc', EU)).status, 409)
    assert.equal(table.isOpen(US), false)

    const c = browser()
    await c.send('POST', '/note/y', EU)
    await db.settle()
    db.region(EU).down('500')
    counted()
    assert.deepEqual(await c.get(EU), { note: 'y' }, 'served by another replica')
    assert.equal(counted()[US].GetItem, 1)
    assert.ok(table.isOpen(EU))
  })
})

describe('globalTable(): options', () => {
  test('bad options fail at once, naming the option', () => {
    const bad: [unknown, RegExp][] = [
      [{ regions: [US] }, /name must be a DynamoDB table name/],
      [{ name: 'sessions', regions: [] }, /regions must be a list of distinct AWS regions/],
      [{ name: 'sessions', regions: [US, US] }, /distinct/],
      [{ name: 'sessions', regions: [US], nearest: 'eu' }, /nearest must be a function/],
      [{ name: 'sessions', regions: [US], breaker: { failures: 0 } }, /breaker.failures/],
    ]
    for (const [options, message] of bad) {
      assert.throws(
        () => globalTable(options as GlobalTableOptions),
        (e: DynamoSessionError) => e.code === 'INVALID_OPTIONS' && message.test(e.message),
      )
    }
    assert.throws(() => dynamoSession({ table: {} as never }), /table must be/)
  })

  test('a plain table name is unchanged: no region cookie', async () => {
    const db = memoryDynamoDB()
    const conn = {
      table: 'sessions',
      region: US,
      endpoint: 'http://memory.test',
      credentials: CREDENTIALS,
      fetch: db.fetch,
    }
    await createSessionTable(conn)
    const app = new Hono<SessionEnv<Data>>()
    app.use(dynamoSession<Data>({ ...conn, secret: SECRET }))
    app.post('/', (c) => {
      c.get('session').increment('n')
      return c.text('ok')
    })
    const first = await app.request('/', { method: 'POST' })
    const cookie = first.headers.getSetCookie()[0].split(';')[0]
    assert.match(cookie, /^sid=[\w-]{43}\.[\w-]{43}$/)
    const second = await app.request('/', { method: 'POST', headers: { cookie } })
    assert.ok(
      second.headers.getSetCookie().every((c) => !c.startsWith('sid-r=')),
      'no region cookie',
    )
    assert.equal(db.tables.get('sessions')?.items[0].home, undefined)
  })

  test('the default nearest region is the closest to request.cf, else the first', () => {
    const at = (cf?: object) => ({ req: { raw: { cf } } }) as never
    assert.equal(nearestByCoordinates(at({ latitude: '-33.9', longitude: '151.2' }), REGIONS), AP)
    assert.equal(nearestByCoordinates(at({ latitude: 48.8, longitude: 2.3 }), REGIONS), EU)
    assert.equal(nearestByCoordinates(at({ latitude: 40.7, longitude: -74 }), REGIONS), US)
    assert.equal(nearestByCoordinates(at(), REGIONS), US)
    assert.equal(nearestByCoordinates(at({ colo: 'SYD' }), REGIONS), US)
  })
})

describe('createSessionTable({ regions }) and create-table --regions', () => {
  test('against another endpoint (DynamoDB Local, the kit): a table in each region', async () => {
    const db = memoryDynamoDB({ regions: REGIONS, replicationLagMs: LONG })
    const created = await createSessionTable({
      regions: [EU, US, AP],
      endpoint: 'http://memory.test',
      credentials: CREDENTIALS,
      fetch: db.fetch,
    })
    assert.equal(created.created, true)
    for (const r of REGIONS) {
      assert.ok(db.region(r).tables.has('sessions'), r)
      assert.ok((db.region(r).calls.DescribeTable ?? 0) >= 1, `checked in ${r}`)
    }
    assert.equal(db.region(EU).calls.CreateTable, 1, 'created in the first region')
    await assert.rejects(
      createSessionTable({ regions: [US, US], endpoint: 'http://memory.test', fetch: db.fetch }),
      /regions must be a list of distinct AWS regions/,
    )
  })

  test('against AWS: a stream, then one replica per UpdateTable, each awaited until it is ACTIVE', async () => {
    const db = memoryDynamoDB()
    const updates: unknown[] = []
    const replicas: { RegionName: string; ReplicaStatus: string }[] = []
    let stream: object | undefined
    // AWS's side of replicas, which the kit does not model: UpdateTable's stream and replica
    // updates are recorded, and DescribeTable shows them (a replica CREATING, then ACTIVE).
    const aws: typeof fetch = async (input, init) => {
      const target = new Headers(init?.headers).get('x-amz-target') ?? ''
      const body = JSON.parse(String(init?.body))
      assert.match(String(input), /^https:\/\/dynamodb\.us-east-1\.amazonaws\.com/)
      if (target.endsWith('UpdateTable') && (body.ReplicaUpdates || body.StreamSpecification)) {
        updates.push(body.ReplicaUpdates ?? { stream: body.StreamSpecification })
        stream ??= body.StreamSpecification
        for (const u of body.ReplicaUpdates ?? []) {
          replicas.push({ RegionName: u.Create.RegionName, ReplicaStatus: 'CREATING' })
        }
        return new Response('{}')
      }
      const res = await db.fetch(input, init)
      if (!target.endsWith('DescribeTable')) return res
      const out = await res.json()
      out.Table.Replicas = replicas.map((r) => ({ ...r }))
      out.Table.StreamSpecification = stream
      for (const r of replicas) r.ReplicaStatus = 'ACTIVE'
      return Response.json(out)
    }
    const options = { regions: [US, EU, AP], credentials: CREDENTIALS, fetch: aws }
    const first = await createSessionTable(options)
    assert.deepEqual(first.replicasAdded, [EU, AP])
    assert.deepEqual(updates, [
      { stream: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } },
      [{ Create: { RegionName: EU } }],
      [{ Create: { RegionName: AP } }],
    ])
    const again = await createSessionTable(options)
    assert.deepEqual([again.created, again.replicasAdded], [false, []], 'nothing left to add')
    assert.equal(updates.length, 3)
  })
})
