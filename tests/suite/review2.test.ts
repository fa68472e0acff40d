// Second adversarial review: whole-item writes, write tokens and their window, against the
// suite's DynamoDB (DynamoDB Local or memoryDynamoDB()).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { type DynamoSessionError, dynamoSession, type SessionEnv } from '../../src/index.ts'
import { cookieOf, freshTable, SECRET } from '../helpers.ts'

type Data = Record<string, unknown>
type Conn = Awaited<ReturnType<typeof freshTable>>

/** A DynamoDB call seen by the test's fetch: its operation and body. */
type Seen = { op: string; body: Record<string, unknown> }
/** Runs around one forwarded call; `forward` sends it on. */
type Hook = (seen: Seen, forward: () => Promise<Response>) => Promise<Response>

/** An app over `conn` whose DynamoDB calls pass through `hook` when one is set. */
function makeApp(conn: Conn, extra: Record<string, unknown> = {}) {
  const errors: DynamoSessionError[] = []
  let hook: Hook | undefined
  const fetcher: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    const op = (request.headers.get('x-amz-target') ?? '').split('.').pop() ?? ''
    const body = JSON.parse(await request.clone().text())
    const forward = () => fetch(request)
    return hook ? hook({ op, body }, forward) : forward()
  }
  const app = new Hono<SessionEnv<Data>>()
  app.use(
    dynamoSession<Data>({
      ...conn,
      secret: SECRET,
      fetch: fetcher,
      onError: (e) => {
        errors.push(e)
      },
      ...extra,
    }),
  )
  const req = (method: string, path: string, cookie?: string) =>
    app.request(path, { method, headers: cookie ? { cookie } : {} })
  return {
    app,
    req,
    errors,
    setHook(h: Hook | undefined) {
      hook = h
    },
  }
}

/** A promise and its resolver. */
function gate() {
  let open = () => {}
  const opened = new Promise<void>((r) => {
    open = r
  })
  return { open, opened }
}

describe('review 2: whole-item writes and write tokens', () => {
  test('a whole-item write replayed after a conflict keeps a flash value another request wrote meanwhile', async () => {
    const a = makeApp(await freshTable('r2flash'))
    const loaded = gate()
    const flashed = gate()
    a.app.post('/start', (c) => {
      c.get('session').set('user', 'ada')
      return c.text('ok')
    })
    // Past DynamoDB's expression limits: written whole, under the version read.
    a.app.post('/big', async (c) => {
      loaded.open()
      await flashed.opened
      for (let i = 0; i < 400; i++) c.get('session').set(`k${i}`, i)
      return c.text('ok')
    })
    a.app.post('/flash', (c) => {
      c.get('session').flash('msg', 'saved')
      return c.text('ok')
    })
    a.app.get('/take', (c) => c.json({ msg: c.get('session').takeFlash('msg') ?? null }))
    const cookie = cookieOf(await a.req('POST', '/start'))

    const big = a.req('POST', '/big', cookie)
    await loaded.opened
    assert.equal((await a.req('POST', '/flash', cookie)).status, 200)
    flashed.open()
    assert.equal((await big).status, 200)

    const took = await a.req('GET', '/take', cookie)
    assert.equal(took.status, 200)
    assert.deepEqual(await took.json(), { msg: 'saved' })
    const read = await a.req('GET', '/take', cookie)
    assert.deepEqual(await read.json(), { msg: null })
    assert.deepEqual(a.errors, [])
  })

  test('a long handler whose increment is retried after its reply was lost counts once, even when a later request wrote between', async () => {
    const a = makeApp(await freshTable('r2window'))
    a.app.post('/increment', (c) => {
      c.get('session').increment('n')
      return c.text('ok')
    })
    // A handler that takes a minute (a slow upstream call), by the clock the middleware reads.
    const realNow = Date.now
    let offset = 0
    a.app.post('/slow-increment', (c) => {
      c.get('session').increment('n')
      offset += 60_000
      return c.text('ok')
    })
    a.app.get('/n', (c) => c.json({ n: c.get('session').get('n') ?? null }))
    const cookie = cookieOf(await a.req('POST', '/increment'))

    Date.now = () => realNow() + offset
    try {
      let lost = false
      a.setHook(async (seen, forward) => {
        const names = Object.values((seen.body.ExpressionAttributeNames ?? {}) as object)
        if (lost || seen.op !== 'UpdateItem' || !names.includes('n')) return forward()
        // The slow request's save: DynamoDB applies it, another request of the session writes,
        // then the reply is lost and the client retries.
        lost = true
        const applied = await forward()
        assert.equal(applied.status, 200)
        assert.equal((await a.req('POST', '/increment', cookie)).status, 200)
        throw new TypeError('fetch failed: connection reset')
      })
      assert.equal((await a.req('POST', '/slow-increment', cookie)).status, 200)
      assert.ok(lost)
    } finally {
      Date.now = realNow
      a.setHook(undefined)
    }
    const res = await a.req('GET', '/n', cookie)
    // 1 (first request) + 1 (slow) + 1 (the request in between).
    assert.deepEqual(await res.json(), { n: 3 })
    assert.deepEqual(a.errors, [])
  })
  test('with locking, a touch whose reply was lost after DynamoDB applied it refreshes the cookie and reports nothing', async () => {
    const a = makeApp(await freshTable('r2touch'), { locking: { leaseMs: 5000, waitMs: 2000 } })
    a.app.post('/start', (c) => {
      c.get('session').set('user', 'ada')
      return c.text('ok')
    })
    a.app.post('/touch', (c) => {
      c.get('session').touch()
      return c.text('ok')
    })
    const cookie = cookieOf(await a.req('POST', '/start'))
    // Seconds later, so that touch() moves the expiry.
    const realNow = Date.now
    Date.now = () => realNow() + 5000
    let lost = false
    try {
      a.setHook(async (seen, forward) => {
        const update = String(seen.body.UpdateExpression ?? '')
        if (lost || seen.op !== 'UpdateItem' || !update.includes('ADD')) return forward()
        // The save that moves the expiry and releases the lease: applied, its reply lost.
        lost = true
        assert.equal((await forward()).status, 200)
        throw new TypeError('fetch failed: connection reset')
      })
      const res = await a.req('POST', '/touch', cookie)
      assert.ok(lost)
      assert.equal(res.status, 200)
      assert.deepEqual(
        a.errors.map((e) => e.code),
        [],
      )
      assert.equal(res.headers.getSetCookie().length, 1)
      assert.match(res.headers.getSetCookie()[0], /Max-Age=86400/)
    } finally {
      Date.now = realNow
      a.setHook(undefined)
    }
  })
})
