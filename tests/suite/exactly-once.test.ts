// Exactly-once writes: a proxy lets DynamoDB apply a write, then answers after the client's
// timeout (or never), so the client retries a write that was already applied. The retry is
// recognised: one increment adds exactly 1, a login or logout is done once, a lease taken that
// way is the request's own, and every request answers 2xx. A held call that is lost on the wire
// and delivered later (a late duplicate) changes nothing, whatever happened in between.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Hono } from 'hono'
import type { Fault, FaultProxy } from '../infra/fault-proxy.ts'
import {
  type Env,
  loggedIn,
  postLosingFirstAttempt,
  type TestAppOptions,
  testApp,
} from '../support/app.ts'
import { sleep, virtualClock } from '../support/clock.ts'
import { cookieFrom, keyOf } from '../support/cookies.ts'
import { type Conn, freshTable, live, rawItem, scanAll } from '../support/dynamodb.ts'
import {
  isEnd,
  isLeaseTake,
  isNewItem,
  isRelease,
  isSave,
  type Match,
  replyLostOnce,
} from '../support/fetch.ts'
import { behindFaultProxy, type Proxied } from '../support/proxied.ts'

// Long enough for DynamoDB Local on a busy machine: only the faulted attempt waits it out.
const TIMEOUT_MS = 1000
const FAULTS: [string, Fault][] = [
  ['answered after the timeout', { kind: 'late-reply', ms: 2.5 * TIMEOUT_MS }],
  ['lost', { kind: 'lose-reply' }],
]

/** A test app behind the fault proxy, with POST /increments/:n (keys k0… incremented). */
async function withProxy(
  options: TestAppOptions,
  body: (t: Proxied & { conn: Conn }) => Promise<void>,
) {
  const conn = await freshTable('once')
  const retry = { attempts: 4, timeoutMs: TIMEOUT_MS, budgetMs: 20000 }
  const routes = (app: Hono<Env>) =>
    app.post('/increments/:n', (c) => {
      for (let i = 0; i < Number(c.req.param('n')); i++) c.get('session').increment(`k${i}`)
      return c.text('ok')
    })
  await behindFaultProxy(conn, { retry, routes, ...options }, (t) => body({ ...t, conn }))
}

/** The calls matching `match` went: the fault first, then one retry forwarded. */
function assertRetriedOnce(proxy: FaultProxy, match: Match, fault: Fault) {
  assert.deepEqual(
    proxy.calls.filter((c) => match(c.op, c.body)).map((c) => c.outcome),
    [fault.kind, 'forwarded'],
  )
}

describe('exactly-once writes', () => {
  for (const [what, fault] of FAULTS) {
    test(`an increment applied, its reply ${what}: adds exactly 1, answers 200 (needs a TCP proxy)`, () =>
      withProxy({}, async ({ a, proxy, cookie }) => {
        proxy.inject(fault, { times: 1, match: isSave })
        const res = await a.post('/increment/n', cookie)
        assert.equal(res.status, 200)
        assertRetriedOnce(proxy, isSave, fault)
        assert.deepEqual(a.errors, [])
        assert.deepEqual(await a.whoami(cookie), { user: 'ada', n: 1 })
        assert.equal((await a.post('/increment/n', cookie)).status, 200)
        assert.deepEqual(await a.whoami(cookie), { user: 'ada', n: 2 })
      }))

    test(`1,000 increments written whole, the write's reply ${what}: each counted once, 200 (needs a TCP proxy)`, () =>
      withProxy({}, async ({ a, proxy, cookie }) => {
        proxy.inject(fault, { times: 1, match: isSave })
        assert.equal((await a.post('/increments/1000', cookie)).status, 200)
        assertRetriedOnce(proxy, isSave, fault)
        const data = await a.whoami(cookie)
        assert.ok(data)
        for (let i = 0; i < 1000; i++) assert.equal(data[`k${i}`], 1, `k${i}`)
      }))

    test(`a new session's first write, its reply ${what}: one item, 200 (needs a TCP proxy)`, () =>
      withProxy({}, async ({ a, conn, proxy }) => {
        proxy.inject(fault, { times: 1, match: isNewItem })
        const res = await a.post('/increment/n')
        assert.equal(res.status, 200)
        assertRetriedOnce(proxy, isNewItem, fault)
        assert.deepEqual(await a.whoami(cookieFrom(res)), { n: 1 })
        assert.equal((await scanAll(conn.table)).length, 2, 'the first session and this one')
      }))

    for (const [step, match] of [
      ['new item', isNewItem],
      ['end of the old item', isEnd],
    ] as const) {
      test(`a login whose ${step} was applied, its reply ${what}: logged in once, 200 (needs a TCP proxy)`, () =>
        withProxy({}, async ({ a, conn, proxy, cookie }) => {
          proxy.inject(fault, { times: 1, match })
          const res = await a.post('/login', cookie)
          assert.equal(res.status, 200)
          assertRetriedOnce(proxy, match, fault)
          assert.deepEqual(a.errors, [])
          assert.deepEqual(await a.whoami(cookieFrom(res)), { user: 'ada' })
          assert.equal(await a.whoami(cookie), null, 'the old id is ended')
          assert.equal(live(await scanAll(conn.table)).length, 1, 'one live session')
        }))
    }

    test(`a logout applied, its reply ${what}: 200 and the cookie cleared (needs a TCP proxy)`, () =>
      withProxy({}, async ({ a, conn, proxy, cookie }) => {
        proxy.inject(fault, { times: 1, match: isEnd })
        const res = await a.post('/logout', cookie)
        assert.equal(res.status, 200)
        assert.match(res.headers.get('set-cookie') ?? '', /Max-Age=0/)
        assertRetriedOnce(proxy, isEnd, fault)
        assert.deepEqual(a.errors, [])
        assert.deepEqual(live(await scanAll(conn.table)), [])
      }))

    const locking = { locking: { leaseMs: 60000, waitMs: 3000 } }

    test(`with locking, a lease taken by an attempt whose reply ${what}: the request and the next one go through (needs a TCP proxy)`, () =>
      withProxy(locking, async ({ a, conn, proxy, cookie }) => {
        proxy.inject(fault, { times: 1, match: isLeaseTake })
        const res = await a.post('/increment/n', cookie)
        assert.equal(res.status, 200, 'the request does not wait for its own lease')
        assertRetriedOnce(proxy, isLeaseTake, fault)
        assert.equal((await rawItem(conn, cookie)).lease, undefined)
        const from = proxy.calls.length
        assert.equal((await a.post('/increment/n', cookie)).status, 200)
        assert.equal(
          proxy.calls.slice(from).filter((c) => isLeaseTake(c.op, c.body)).length,
          1,
          'the next request took the lease at once',
        )
        assert.deepEqual(await a.whoami(cookie), { user: 'ada', n: 2 })
      }))

    test(`with locking, the save that releases the lease applied, its reply ${what}: counted once, released (needs a TCP proxy)`, () =>
      withProxy(locking, async ({ a, conn, proxy, cookie }) => {
        proxy.inject(fault, { times: 1, match: isSave })
        assert.equal((await a.post('/increment/n', cookie)).status, 200)
        assertRetriedOnce(proxy, isSave, fault)
        const item = await rawItem(conn, cookie)
        assert.equal(item.lease, undefined)
        assert.equal(item.data.M.n.N, '1')
      }))

    test(`with locking, a release applied, its reply ${what}: the next request is not locked out (needs a TCP proxy)`, () =>
      withProxy(locking, async ({ a, conn, proxy, cookie }) => {
        proxy.inject(fault, { times: 1, match: isRelease })
        assert.equal((await a.get('/read', cookie)).status, 200)
        assert.equal(proxy.calls.filter((c) => isRelease(c.op, c.body))[0]?.outcome, fault.kind)
        assert.equal((await rawItem(conn, cookie)).lease, undefined)
        const from = proxy.calls.length
        assert.equal((await a.post('/increment/n', cookie)).status, 200)
        assert.equal(proxy.calls.slice(from).filter((c) => isLeaseTake(c.op, c.body)).length, 1)
      }))
  }

  test('with locking, every attempt to take the lease timed out after taking it: 503, and the user is not locked out (needs a TCP proxy)', () =>
    withProxy(
      {
        locking: { leaseMs: 60000, waitMs: 3000 },
        retry: { attempts: 2, timeoutMs: TIMEOUT_MS, budgetMs: 20000 },
      },
      async ({ a, conn, proxy, cookie }) => {
        proxy.inject({ kind: 'late-reply', ms: 2.5 * TIMEOUT_MS }, { match: isLeaseTake })
        const res = await a.post('/increment/n', cookie)
        assert.equal(res.status, 503)
        assert.deepEqual(
          a.errors.map((e) => e.code),
          ['TIMEOUT'],
        )
        proxy.clear()
        // The request gave back the lease its attempts took, in the background.
        for (let i = 0; i < 40 && (await rawItem(conn, cookie)).lease; i++) await sleep(50)
        assert.equal((await rawItem(conn, cookie)).lease, undefined)
        assert.equal((await a.post('/increment/n', cookie)).status, 200)
        assert.deepEqual(await a.whoami(cookie), { user: 'ada', n: 1 })
      },
    ))

  test('with locking, a touch whose reply was lost after DynamoDB applied it refreshes the cookie and reports nothing', async () => {
    const conn = await freshTable('r2touch')
    let cookie = ''
    // The save that moves the expiry and releases the lease: applied, its reply lost.
    const lost = replyLostOnce(
      (op, body) =>
        !!cookie && op === 'UpdateItem' && String(body?.UpdateExpression).includes('ADD'),
      () => {
        throw new TypeError('fetch failed: connection reset')
      },
    )
    const a = testApp(conn, { locking: { leaseMs: 5000, waitMs: 2000 }, fetch: lost.fetch })
    cookie = cookieFrom(await a.post('/set/user/ada')) as string
    // Seconds later, so that touch() moves the expiry.
    const clock = virtualClock()
    try {
      clock.advance(5)
      const res = await a.post('/touch', cookie)
      assert.ok(lost.lost())
      assert.equal(lost.status(), 200, 'DynamoDB applied it')
      assert.equal(res.status, 200)
      assert.deepEqual(a.codes(), [])
      assert.equal(res.headers.getSetCookie().length, 1)
      assert.match(res.headers.getSetCookie()[0], /Max-Age=86400/)
    } finally {
      clock.restore()
    }
  })
})

describe('lost replies and late duplicates', () => {
  test("a late duplicate of a set(), delivered after its retry and after a later request's set() of the same key, changes nothing", async () => {
    const a = testApp(await freshTable('once-late-set'))
    const cookie = await loggedIn(a)
    const { res, late } = await postLosingFirstAttempt(a, isSave, '/set/cart/1', cookie)
    assert.equal(res.status, 200, 'its retry was applied')
    assert.equal((await a.post('/set/cart/2', cookie)).status, 200)

    await late.deliver()
    assert.deepEqual(await a.whoami(cookie), { user: 'ada', cart: '2' })
    assert.deepEqual(a.errors, [])
  })

  test("an increment applied with its reply lost, copied into a concurrent sign-in's new session, then retried: 200, counted once", async () => {
    const conn = await freshTable('once-inc-login')
    const tab1 = testApp(conn)
    const tab2 = testApp(conn)
    const cookie = await loggedIn(tab1)
    // DynamoDB applied the increment; its reply waits while the other tab signs in.
    const held = tab1.hold(isSave, 'after')
    const increment = tab1.post('/increment/n', cookie)
    await held.reached
    const login = await tab2.post('/login', cookie)
    assert.equal(login.status, 200)
    held.lose()

    const res = await increment
    assert.equal(res.status, 200, 'its change was kept: never a 409')
    assert.deepEqual(res.headers.getSetCookie(), [], "the browser keeps the sign-in's cookie")
    assert.deepEqual(tab1.errors, [])
    assert.deepEqual(await tab2.whoami(cookieFrom(login)), { user: 'ada', n: 1 })
  })

  test("a late duplicate of a sign-in's rewrite of its new item, landing after that session was signed out, does not bring it back", async () => {
    const conn = await freshTable('once-late-login')
    const a = testApp(conn)
    const cookie = await loggedIn(a)
    const old = await keyOf(cookie)
    const writesNewItem: Match = (op, body) =>
      op === 'PutItem' && !!body?.Item?.data && body.Item.id?.S !== old
    // Another request writes between the sign-in's new item and its end of the old session, so
    // the sign-in rewrites its new item; that rewrite's first attempt is lost on the wire.
    const ending = a.hold(isEnd)
    const login = a.post('/login', cookie)
    await ending.reached
    assert.equal((await a.post('/set/cart/3', cookie)).status, 200)
    const rewrite = a.hold(writesNewItem)
    ending.release()
    await rewrite.reached
    rewrite.lose()
    const res = await login
    assert.equal(res.status, 200)
    const signedIn = cookieFrom(res)
    assert.ok(signedIn)
    assert.deepEqual(await a.whoami(signedIn), { user: 'ada', cart: '3' })
    assert.equal((await a.post('/logout', signedIn)).status, 200)

    await rewrite.deliver()
    assert.equal(await a.whoami(signedIn), null, 'the signed-out session stays ended')
    assert.deepEqual(live(await scanAll(conn.table)), [])
    assert.deepEqual(a.errors, [])
  })
})
