// The `locking` option: read-modify-write requests of one session are serialised by a lease on
// the item; a lease left by a dead request blocks others only until it expires; waiting is bounded
// by waitMs and by the retry budget; a request whose lease was taken over saves nothing; every
// write checks it, sign-in and sign-out included; a take that lands after its request gave up is
// refused.
// (That every lease is given back, on every path, is tests/suite/lease-release.test.ts.)
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { executionContext, loggedIn, type TestApp, testApp } from '../support/app.ts'
import { latch, sleep, virtualClock } from '../support/clock.ts'
import { withConsoleError } from '../support/console.ts'
import { cookieOf } from '../support/cookies.ts'
import { type Conn, freshTable, live, patchItem, rawItem, scanAll } from '../support/dynamodb.ts'
import { type Body, callOf, isEnd, isLeaseTake, type Match, spelled } from '../support/fetch.ts'
import { behindFaultProxy } from '../support/proxied.ts'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** A stored session with `seed` set, and its cookie. */
const seeded = async (a: TestApp) => cookieOf(await a.post('/set/seed/1'))

/** Writes a lease as a request that crashed while holding it would have left it. */
const leaveDeadLease = (conn: Conn, cookie: string, untilMs: number) =>
  patchItem(
    conn,
    cookie,
    'SET #l = :l, #o = :o',
    { ':l': { N: String(untilMs) }, ':o': { S: 'crashed-request' } },
    { '#l': 'lease', '#o': 'leaseOwner' },
  )

/** The lease takes among the calls of `a`, from the `from`th on. */
const leaseAttempts = (a: TestApp, from = 0) =>
  a.calls.slice(from).filter((c) => isLeaseTake(c.op, c.body)).length

/** A fetch that never answers the calls `match` picks, and never listens to their signal. */
const hangWhen =
  (match: Match): typeof fetch =>
  async (input, init) => {
    const { op, body } = await callOf(input, init)
    if (match(op, body)) return new Promise(() => {})
    return fetch(input, init)
  }

describe('locking serialises the requests of one session', () => {
  test('without locking, overlapping read-modify-write requests lose counts', async () => {
    const conn = await freshTable('lock-off')
    const a = testApp(conn)
    const cookie = await seeded(a)
    // Every request waits in its handler until all 20 have read n, so all of them overlap.
    let inside = 0
    const everyoneRead = latch()
    a.pauseWith(async () => {
      if (++inside === 20) everyoneRead.open()
      await Promise.race([everyoneRead.opened, sleep(5000)])
    })
    const responses = await Promise.all(range(20).map(() => a.post('/rmw', cookie)))
    assert.ok(responses.every((r) => r.status === 200))
    a.pauseWith(undefined)
    const n = (await a.whoami(cookie))?.n as number
    assert.ok(n < 20, `counts were lost without locking (n = ${n})`)
  })

  test('with locking, 20 concurrent read-modify-write requests end with n = 20', async () => {
    const conn = await freshTable('lock-on')
    // The wait is spent from the budget: as generous as waitMs, for a loaded machine.
    const a = testApp(conn, {
      locking: { leaseMs: 5000, waitMs: 30000 },
      retry: { timeoutMs: 30000, budgetMs: 30000 },
    })
    const cookie = await seeded(a)
    a.pauseWith(() => sleep(5))
    const responses = await Promise.all(range(20).map(() => a.post('/rmw', cookie)))
    assert.deepEqual(
      responses.map((r) => r.status),
      range(20).map(() => 200),
    )
    const seen = await Promise.all(
      responses.map(async (r) => ((await r.json()) as { n: number }).n),
    )
    assert.deepEqual(
      seen.sort((x, y) => x - y),
      range(20).map((i) => i + 1),
      'each request saw the count the one before it saved',
    )
    a.pauseWith(undefined)
    assert.equal((await a.whoami(cookie))?.n, 20)
    const item = await rawItem(conn, cookie)
    assert.equal(item.lease, undefined, 'the last save released the lease')
    assert.equal(item.leaseOwner, undefined)
  })

  test('with locking, a set and 12 increments in one request are all saved (value aliases stay distinct)', async () => {
    const conn = await freshTable('lock-alias')
    const a = testApp(conn, { locking: { leaseMs: 20_000, waitMs: 300 } })
    a.app.post('/mixed', (c) => {
      const session = c.get('session')
      session.set('s', 's')
      for (let i = 0; i < 12; i++) session.increment(`i${i}`)
      return c.text('ok')
    })
    const cookie = await seeded(a)
    const res = await a.post('/mixed', cookie)
    assert.equal(res.status, 200, a.errors.map((e) => e.message).join('\n'))
    const data = await a.whoami(cookie)
    assert.equal(data?.i11, 1)
    assert.equal(data?.s, 's')
  })
})

describe('waiting for a lease is bounded', () => {
  test('a lease left by a dead request blocks others only until it expires', async () => {
    const conn = await freshTable('lock-dead')
    const a = testApp(conn, { locking: { leaseMs: 1000, waitMs: 5000 } })
    const cookie = await seeded(a)
    await leaveDeadLease(conn, cookie, Date.now() + 700)
    a.reset()
    const res = await a.post('/rmw', cookie)
    assert.equal(res.status, 200)
    assert.ok(leaseAttempts(a) > 1, 'the request waited for the dead lease')
    const item = await rawItem(conn, cookie)
    assert.equal(item.data.M.n.N, '1')
    assert.equal(item.lease, undefined)
  })

  test('waiting is bounded by waitMs, then 503, with backoff rather than a tight loop', async () => {
    const conn = await freshTable('lock-wait')
    const a = testApp(conn, { locking: { leaseMs: 60000, waitMs: 1500 } })
    const cookie = await seeded(a)
    await leaveDeadLease(conn, cookie, Date.now() + 60000)
    a.reset()
    const res = await a.post('/rmw', cookie)
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '1')
    assert.deepEqual(a.codes(), ['LOCK_TIMEOUT'])
    const attempts = leaseAttempts(a)
    // Pauses of at least 10, 20, 40, 80, then 100 ms fit at most 19 tries into 1.5 s; a tight
    // loop would make one per round trip, a hundred or more.
    assert.ok(attempts >= 2 && attempts <= 20, `${attempts} lease attempts in waitMs = 1500`)
    const item = await rawItem(conn, cookie)
    assert.equal(item.data.M.n, undefined, 'nothing was written')
    assert.equal(item.leaseOwner.S, 'crashed-request', 'the live lease was left alone')
  })

  for (const [what, match] of [
    ['taking the lease', (op: string) => op === 'UpdateItem'],
    [
      'the save',
      (op: string, body: Body) =>
        op === 'UpdateItem' && spelled(body, 'UpdateExpression').startsWith('SET data.'),
    ],
  ] as const) {
    test(`a store that hangs on ${what}: 503 within about one budgetMs, with the real cause`, async () => {
      const conn = await freshTable('lockhang')
      const cookie = await seeded(testApp(conn))
      const budgetMs = 800
      // Without onError: the one line the library logs is read here.
      const a = testApp(conn, {
        locking: { leaseMs: 10_000, waitMs: 5_000 },
        retry: { attempts: 3, timeoutMs: 5_000, budgetMs },
        fetch: hangWhen(match),
        onError: undefined,
        appOnError: null,
      })
      const started = performance.now()
      const { result: res, lines } = await withConsoleError(() => a.post('/set/a/1', cookie))
      const ms = performance.now() - started
      assert.equal(res.status, 503)
      assert.equal(res.headers.get('retry-after'), '1')
      // A bound, not a speed claim: load, save and release share one budget.
      assert.ok(ms < budgetMs * 1.6, `answered after ${Math.round(ms)} ms (budget ${budgetMs})`)
      assert.equal(lines.length, 1)
      assert.match(lines[0].text, /TIMEOUT/)
      assert.doesNotMatch(lines[0].text, /leaseMs|waitMs/, 'not blamed on the lock')
    })
  }
})

describe('a lease taken over', () => {
  test('a lease taken by an attempt whose reply was lost is taken again by the retry', async () => {
    const conn = await freshTable('lock-lostreply')
    const locking = { leaseMs: 60000, waitMs: 500 }
    await behindFaultProxy(conn, { locking }, async ({ a, proxy, cookie }) => {
      // DynamoDB sets the lease, the answer never arrives, the client retries the same call.
      proxy.inject(
        { kind: 'lose-reply' },
        {
          times: 1,
          match: isLeaseTake,
        },
      )
      const res = await a.post('/rmw', cookie)
      assert.equal(res.status, 200, 'the request does not wait for its own lease')
      const item = await rawItem(conn, cookie)
      assert.equal(item.data.M.n.N, '1')
      assert.equal(item.lease, undefined)
    })
  })

  test('a request whose lease was taken over after it expired saves nothing and gets 503', async () => {
    const conn = await freshTable('lock-lost')
    const a = testApp(conn, { locking: { leaseMs: 60000, waitMs: 300 } })
    const cookie = await seeded(a)
    // Another request takes the lease while this one is in its handler, as after its lease ran out.
    a.pauseWith(() =>
      patchItem(
        conn,
        cookie,
        'SET #o = :o',
        { ':o': { S: 'the-next-request' } },
        { '#o': 'leaseOwner' },
      ),
    )
    const res = await a.post('/rmw', cookie)
    assert.equal(res.status, 503)
    assert.deepEqual(a.codes(), ['LOCK_LOST'])
    const item = await rawItem(conn, cookie)
    assert.equal(item.data.M.n, undefined)
    assert.equal(item.leaseOwner.S, 'the-next-request', "the other request's lease is kept")
  })
})

describe('locking: ends, budget and late takes', () => {
  for (const [what, path] of [
    ['destroy()', '/logout'],
    ['regenerate()', '/login'],
  ] as const) {
    test(`${what} whose lease was taken over: 503 LOCK_LOST, nothing changed, and the new holder's save succeeds`, async () => {
      const conn = await freshTable('lock-end-lost')
      const locking = { leaseMs: 1000, waitMs: 500 }
      const late = testApp(conn, { locking })
      const holder = testApp(conn, { locking })
      const cookie = await loggedIn(late)
      const clock = virtualClock()
      try {
        // The late request has loaded the session, with its lease, and is about to end it.
        const ending = late.hold(isEnd)
        const slow = late.post(path, cookie)
        await ending.reached
        // Its lease runs out; another request takes the lease and runs its handler.
        clock.advance(2)
        const inside = latch()
        const go = latch()
        holder.pauseWith(async () => {
          inside.open()
          await go.opened
        })
        const rightful = holder.post('/set/cart/3', cookie)
        await inside.opened
        ending.release()
        const res = await slow
        assert.equal(res.status, 503)
        assert.deepEqual(late.codes(), ['LOCK_LOST'])
        assert.deepEqual(res.headers.getSetCookie(), [])

        go.open()
        assert.equal((await rightful).status, 200)
        holder.pauseWith(undefined)
        assert.deepEqual(await holder.whoami(cookie), { user: 'ada', cart: '3' })
        assert.equal(live(await scanAll(conn.table)).length, 1, 'no other session was stored')
        assert.deepEqual(holder.codes(), [])
      } finally {
        clock.restore()
      }
    })
  }

  test('the wait for a lease is spent from retry.budgetMs: a 2 s budget ends it with 503 LOCK_TIMEOUT, whatever waitMs allows', async () => {
    const conn = await freshTable('lock-budget')
    const clock = virtualClock()
    try {
      // Half a second passes, by the clock the library reads, while the request pauses after each try.
      const pausing: typeof fetch = async (input, init) => {
        const res = await fetch(input, init)
        setTimeout(() => clock.advance(0.5))
        return res
      }
      const a = testApp(conn, {
        locking: { leaseMs: 600_000, waitMs: 10_000 },
        retry: { budgetMs: 2000 },
        fetch: pausing,
      })
      const cookie = await loggedIn(a)
      await leaveDeadLease(conn, cookie, Date.now() + 600_000)
      const from = a.calls.length
      const res = await a.post('/set/cart/1', cookie)
      assert.equal(res.status, 503)
      assert.equal(res.headers.get('retry-after'), '1')
      assert.deepEqual(a.codes(), ['LOCK_TIMEOUT'])
      // Half a second per try: at most five fit in the budget, where waitMs allows twenty.
      const tries = leaseAttempts(a, from)
      assert.ok(tries <= 5, `${tries} tries to take the lease`)
      assert.equal((await rawItem(conn, cookie)).leaseOwner.S, 'crashed-request')
    } finally {
      clock.restore()
    }
  })

  for (const when of ['while the request gives it back', 'after the request gave it back']) {
    test(`a lease take that lands ${when}, the request having given up, does not lock the next request out`, async () => {
      const conn = await freshTable('lock-late-take')
      const a = testApp(conn, {
        locking: { leaseMs: 60_000, waitMs: 1000 },
        // One attempt per call: a take lost on the wire ends the request.
        retry: { attempts: 1, timeoutMs: 30_000, budgetMs: 60_000 },
      })
      const cookie = await loggedIn(a)
      const take = a.hold(isLeaseTake)
      // What the request does about its lost take, after answering: its first write is held.
      const notATake: Match = (op, body) => op === 'UpdateItem' && !isLeaseTake(op, body)
      const giveBack = a.hold(notATake, 'after')
      const worker = executionContext()
      const gaveUp = a.app.request('/read', { headers: { cookie } }, undefined, worker.ctx)
      await take.reached
      take.lose()
      assert.equal((await gaveUp).status, 503)
      assert.deepEqual(a.codes(), ['NETWORK'])

      await giveBack.reached
      if (when.startsWith('while')) await take.deliver()
      giveBack.release()
      await worker.settled()
      if (when.startsWith('after')) await take.deliver()

      const from = a.calls.length
      assert.equal((await a.post('/set/cart/1', cookie)).status, 200, 'not locked out')
      assert.equal(leaseAttempts(a, from), 1, 'the next request took the lease at its first try')
      assert.deepEqual(await a.whoami(cookie), { user: 'ada', cart: '1' })
    })
  }
})
