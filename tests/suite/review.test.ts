// Adversarial review: interleavings, retries and expression edge cases that the session rules
// must survive, each against DynamoDB Local.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { CookieSigner, newId, storedKey } from '../../src/cookie.ts'
import { type DynamoSessionError, dynamoSession, type SessionEnv } from '../../src/index.ts'
import { cookieOf, ddb, freshTable, SECRET } from '../helpers.ts'

type Data = Record<string, unknown>
type Conn = Awaited<ReturnType<typeof freshTable>>

/** An app over `conn` whose fetch can be replaced per test. */
function makeApp(conn: Conn, extra: Record<string, unknown> = {}, fetcher?: typeof fetch) {
  const errors: DynamoSessionError[] = []
  const app = new Hono<SessionEnv<Data>>()
  app.use(
    dynamoSession<Data>({
      ...conn,
      secret: SECRET,
      ...(fetcher ? { fetch: fetcher } : {}),
      onError: (e) => {
        errors.push(e)
      },
      ...extra,
    }),
  )
  app.post('/set/:n', (c) => {
    const n = Number(c.req.param('n'))
    for (let i = 0; i < n; i++) c.get('session').set(`k${i}`, i)
    return c.text('ok')
  })
  app.post('/increment', (c) => {
    c.get('session').increment('n')
    return c.text('ok')
  })
  app.post('/mixed', (c) => {
    const session = c.get('session')
    session.set('s', 's')
    for (let i = 0; i < 12; i++) session.increment(`i${i}`)
    return c.text('ok')
  })
  app.post('/increment-proto', (c) => {
    c.get('session').increment('constructor')
    c.get('session').increment('__proto__', 2)
    return c.text('ok')
  })
  app.get('/read', (c) => c.json(c.get('session').data))
  const req = (method: string, path: string, cookie?: string) =>
    app.request(path, { method, headers: cookie ? { cookie } : {} })
  return { app, req, errors }
}

/** The stored item of a cookie `sid=<id>.<sig>`. */
async function itemOf(table: string, cookie: string) {
  const id = cookie.split('=')[1].slice(0, 43)
  const out = await ddb('GetItem', {
    TableName: table,
    Key: { id: { S: await storedKey(id) } },
    ConsistentRead: true,
  })
  return out.Item
}

/** A fetch that lets DynamoDB apply the first `op` call, then answers it with a 500 instead. */
function replyLostOnce(op: string): typeof fetch {
  let dropped = false
  return async (input, init) => {
    const request = new Request(input, init)
    const res = await fetch(request)
    if (!dropped && request.headers.get('x-amz-target')?.endsWith(`.${op}`)) {
      dropped = true
      await res.arrayBuffer()
      return new Response('{"__type":"InternalServerError"}', { status: 500 })
    }
    return res
  }
}

/** A fetch that holds the first `op` call until `open()`; `reached` resolves when it is held. */
function gatedFetch(op: string) {
  let open!: () => void
  let reach!: () => void
  const gate = new Promise<void>((r) => {
    open = r
  })
  const reached = new Promise<void>((r) => {
    reach = r
  })
  let held = false
  const gated: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    if (!held && request.headers.get('x-amz-target')?.endsWith(`.${op}`)) {
      held = true
      reach()
      await gate
    }
    return fetch(request)
  }
  return { fetch: gated, open, reached }
}

/** A session as version 0.1 stored it (no `v`, no `w`), and the cookie naming it. */
async function legacySession(table: string, data: Record<string, unknown>) {
  const id = newId()
  const now = Math.floor(Date.now() / 1000)
  await ddb('PutItem', {
    TableName: table,
    Item: {
      id: { S: await storedKey(id) },
      data: { M: data },
      flash: { M: {} },
      expires: { N: String(now + 3600) },
      created: { N: String(now - 60) },
    },
  })
  return `sid=${await new CookieSigner([SECRET]).sign(id)}`
}

describe('review', () => {
  test('locking: a request that changes keys gives the lease back with its write', async () => {
    const conn = await freshTable('rv-lease')
    const a = makeApp(conn, { locking: { leaseMs: 20_000, waitMs: 300 } })
    const cookie = cookieOf(await a.req('POST', '/set/1'))
    assert.equal((await a.req('POST', '/increment', cookie)).status, 200)
    const item = await itemOf(conn.table, cookie)
    assert.equal(item.lease, undefined, 'lease attribute left on the item')
    // The next request of the session is not locked out.
    assert.equal((await a.req('POST', '/increment', cookie)).status, 200)
    assert.equal(((await (await a.req('GET', '/read', cookie)).json()) as Data).n, 2)
  })

  test('locking: a set and 12 increments in one request are saved (value aliases stay distinct)', async () => {
    const conn = await freshTable('rv-alias')
    const a = makeApp(conn, { locking: { leaseMs: 20_000, waitMs: 300 } })
    const cookie = cookieOf(await a.req('POST', '/set/1'))
    const res = await a.req('POST', '/mixed', cookie)
    assert.equal(res.status, 200, a.errors.map((e) => e.message).join('\n'))
    const data = (await (await a.req('GET', '/read', cookie)).json()) as Data
    assert.equal(data.i11, 1)
    assert.equal(data.s, 's')
  })

  test('a 0.1 item (no v, no w): an increment whose reply was lost counts once, 200', async () => {
    const conn = await freshTable('rv-legacy')
    const cookie = await legacySession(conn.table, { n: { N: '5' } })
    // The first write to a 0.1 item replaces it whole (the upgrade): a PutItem.
    const a = makeApp(conn, {}, replyLostOnce('PutItem'))
    assert.equal((await a.req('POST', '/increment', cookie)).status, 200)
    assert.equal((await itemOf(conn.table, cookie)).data.M.n.N, '6')
  })

  test('a 0.1 item: two overlapping increments both count and both answer 200', async () => {
    const conn = await freshTable('rv-legacy2')
    const cookie = await legacySession(conn.table, { n: { N: '5' } })
    const gate = gatedFetch('PutItem')
    const slow = makeApp(conn, {}, gate.fetch)
    const fast = makeApp(conn)
    const first = slow.req('POST', '/increment', cookie)
    await gate.reached
    assert.equal((await fast.req('POST', '/increment', cookie)).status, 200)
    gate.open()
    assert.equal((await first).status, 200, slow.errors.map((e) => e.message).join('\n'))
    assert.equal((await itemOf(conn.table, cookie)).data.M.n.N, '7')
  })

  test('increment of "constructor" and "__proto__" on a stored session: both stored, 200', async () => {
    const conn = await freshTable('rv-proto')
    const a = makeApp(conn)
    const cookie = cookieOf(await a.req('POST', '/set/1'))
    const res = await a.req('POST', '/increment-proto', cookie)
    assert.equal(res.status, 200, a.errors.map((e) => e.message).join('\n'))
    const data = (await itemOf(conn.table, cookie)).data.M
    assert.equal(data.constructor?.N, '1')
    assert.equal(Object.getOwnPropertyDescriptor(data, '__proto__')?.value?.N, '2')
  })
})
