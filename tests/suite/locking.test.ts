// The `locking` option: read-modify-write requests of one session are serialised by a lease on
// the item; a lease left by a dead request expires; waiting is bounded, within the request's
// budget; the lease is given back when the handler throws or the save fails; every write checks
// it, sign-in and sign-out included; a take that lands after its request gave up is refused.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { storedKey } from '../../src/cookie.ts'
import {
  type DynamoSessionError,
  type DynamoSessionOptions,
  dynamoSession,
  type SessionEnv,
} from '../../src/index.ts'
import { testEndpoint } from '../env.ts'
import { startFaultProxy } from '../fault-proxy.ts'
import { cookieOf, countingFetch, ddb, freshTable, SECRET, scanAll, spelled } from '../helpers.ts'
import {
  codes,
  executionContext,
  isEnd,
  isLeaseTake,
  makeApp as lifecycleApp,
  live,
  loggedIn,
  type Match,
  virtualClock,
} from '../lifecycle.ts'

type Data = { n: number; seed: boolean; other: string }
type Conn = Awaited<ReturnType<typeof freshTable>>

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

function makeApp(
  conn: Conn,
  options: Partial<DynamoSessionOptions<Data>>,
  inHandler: () => Promise<void> = async () => {},
) {
  const counter = countingFetch()
  const errors: DynamoSessionError[] = []
  const app = new Hono<SessionEnv<Data>>()
  app.use(
    dynamoSession<Data>({
      ...conn,
      secret: SECRET,
      fetch: counter.fetch,
      onError: (e) => {
        errors.push(e)
      },
      ...options,
    }),
  )
  app.post('/seed', (c) => {
    c.get('session').set('seed', true)
    return c.text('ok')
  })
  // Read-modify-write: exactly what locking exists for.
  app.post('/rmw', async (c) => {
    const session = c.get('session')
    const n = session.get('n') ?? 0
    await inHandler()
    session.set('n', n + 1)
    return c.json({ n: n + 1 })
  })
  app.onError((_, c) => c.text('handler failed', 500))
  app.post('/boom', () => {
    throw new Error('handler failed')
  })
  app.get('/read', (c) => c.json(c.get('session').data))
  const post = (path: string, cookie: string) =>
    app.request(path, { method: 'POST', headers: { cookie } })
  const seed = async () => cookieOf(await app.request('/seed', { method: 'POST' }))
  return { app, post, seed, counter, errors }
}

/** The raw item of a session, lease attributes included. */
async function rawItem(conn: Conn, cookie: string) {
  const id = decodeURIComponent(cookie.split('=')[1]).split('.')[0]
  const out = await ddb('GetItem', {
    TableName: conn.table,
    Key: { id: { S: await storedKey(id) } },
    ConsistentRead: true,
  })
  return { key: await storedKey(id), item: out.Item }
}

/** Writes a lease as a request that crashed while holding it would have left it. */
async function leaveDeadLease(conn: Conn, cookie: string, untilMs: number) {
  const { key } = await rawItem(conn, cookie)
  await ddb('UpdateItem', {
    TableName: conn.table,
    Key: { id: { S: key } },
    UpdateExpression: 'SET #l = :l, #o = :o',
    ExpressionAttributeNames: { '#l': 'lease', '#o': 'leaseOwner' },
    ExpressionAttributeValues: { ':l': { N: String(untilMs) }, ':o': { S: 'crashed-request' } },
  })
}

const leaseAttempts = (counter: ReturnType<typeof countingFetch>) =>
  counter.calls.filter(
    (c) => c.op === 'UpdateItem' && spelled(c.body, 'UpdateExpression').startsWith('SET lease = :'),
  ).length

describe('locking', () => {
  test('without locking, overlapping read-modify-write requests lose counts', async () => {
    const conn = await freshTable('lock-off')
    // Every request waits in its handler until all 20 have read n, so all of them overlap.
    let inside = 0
    let allIn: () => void = () => {}
    const everyoneRead = new Promise<void>((resolve) => {
      allIn = resolve
    })
    const a = makeApp(conn, {}, async () => {
      if (++inside === 20) allIn()
      await Promise.race([everyoneRead, sleep(5000)])
    })
    const cookie = await a.seed()
    const responses = await Promise.all(range(20).map(() => a.post('/rmw', cookie)))
    assert.ok(responses.every((r) => r.status === 200))
    const { n } = (await (await a.app.request('/read', { headers: { cookie } })).json()) as Data
    assert.ok(n < 20, `counts were lost without locking (n = ${n})`)
  })

  test('with locking, 20 concurrent read-modify-write requests end with n = 20', async () => {
    const conn = await freshTable('lock-on')
    // The wait is spent from the budget: as generous as waitMs, for a loaded machine.
    const a = makeApp(
      conn,
      { locking: { leaseMs: 5000, waitMs: 30000 }, retry: { budgetMs: 30000 } },
      () => sleep(5),
    )
    const cookie = await a.seed()
    const responses = await Promise.all(range(20).map(() => a.post('/rmw', cookie)))
    assert.deepEqual(
      responses.map((r) => r.status),
      range(20).map(() => 200),
    )
    const seen = await Promise.all(responses.map(async (r) => ((await r.json()) as Data).n))
    assert.deepEqual(
      seen.sort((x, y) => x - y),
      range(20).map((i) => i + 1),
      'each request saw the count the one before it saved',
    )
    const { n } = (await (await a.app.request('/read', { headers: { cookie } })).json()) as Data
    assert.equal(n, 20)
    const { item } = await rawItem(conn, cookie)
    assert.equal(item.lease, undefined, 'the last save released the lease')
    assert.equal(item.leaseOwner, undefined)
  })

  test('a lease left by a dead request blocks others only until it expires', async () => {
    const conn = await freshTable('lock-dead')
    const a = makeApp(conn, { locking: { leaseMs: 1000, waitMs: 5000 } })
    const cookie = await a.seed()
    await leaveDeadLease(conn, cookie, Date.now() + 700)
    a.counter.reset()
    const res = await a.post('/rmw', cookie)
    assert.equal(res.status, 200)
    assert.ok(leaseAttempts(a.counter) > 1, 'the request waited for the dead lease')
    const { item } = await rawItem(conn, cookie)
    assert.equal(item.data.M.n.N, '1')
    assert.equal(item.lease, undefined)
  })

  test('waiting is bounded by waitMs, then 503, with backoff rather than a tight loop', async () => {
    const conn = await freshTable('lock-wait')
    const a = makeApp(conn, { locking: { leaseMs: 60000, waitMs: 1500 } })
    const cookie = await a.seed()
    await leaveDeadLease(conn, cookie, Date.now() + 60000)
    a.counter.reset()
    const res = await a.post('/rmw', cookie)
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '1')
    assert.deepEqual(
      a.errors.map((e) => e.code),
      ['LOCK_TIMEOUT'],
    )
    const attempts = leaseAttempts(a.counter)
    // Pauses of at least 10, 20, 40, 80, then 100 ms fit at most 19 tries into 1.5 s; a tight
    // loop would make one per round trip, a hundred or more.
    assert.ok(attempts >= 2 && attempts <= 20, `${attempts} lease attempts in waitMs = 1500`)
    const { item } = await rawItem(conn, cookie)
    assert.equal(item.data.M.n, undefined, 'nothing was written')
    assert.equal(item.leaseOwner.S, 'crashed-request', 'the live lease was left alone')
  })

  test('the lease is released when the handler throws', async () => {
    const conn = await freshTable('lock-throw')
    const a = makeApp(conn, { locking: { leaseMs: 60000, waitMs: 300 } })
    const cookie = await a.seed()
    const res = await a.post('/boom', cookie)
    assert.equal(res.status, 500)
    assert.equal((await rawItem(conn, cookie)).item.lease, undefined)
    // With the 60 s lease still held this would wait 300 ms and answer 503.
    assert.equal((await a.post('/rmw', cookie)).status, 200)
  })

  test('the lease is released when the save fails, and the session is unchanged', async () => {
    const conn = await freshTable('lock-savefail')
    const proxy = await startFaultProxy(testEndpoint())
    try {
      const a = makeApp(conn, {
        endpoint: proxy.endpoint,
        locking: { leaseMs: 60000, waitMs: 300 },
        retry: { attempts: 2, budgetMs: 1000 },
      })
      const cookie = await a.seed()
      // Only the save fails: the lease is taken and given back by UpdateItems of other shapes.
      proxy.inject(
        { kind: 'status', status: 500 },
        {
          match: (op, body) =>
            op === 'UpdateItem' && spelled(body, 'UpdateExpression').startsWith('SET data.'),
        },
      )
      const res = await a.post('/rmw', cookie)
      assert.equal(res.status, 503)
      const { item } = await rawItem(conn, cookie)
      assert.equal(item.lease, undefined, 'the lease was given back')
      assert.equal(item.data.M.n, undefined, 'the failed change was not stored')
      proxy.clear()
      assert.equal((await a.post('/rmw', cookie)).status, 200)
      assert.equal((await rawItem(conn, cookie)).item.data.M.n.N, '1')
    } finally {
      await proxy.close()
    }
  })

  test('a lease taken by an attempt whose reply was lost is taken again by the retry', async () => {
    const conn = await freshTable('lock-lostreply')
    const proxy = await startFaultProxy(testEndpoint())
    try {
      const a = makeApp(conn, {
        endpoint: proxy.endpoint,
        locking: { leaseMs: 60000, waitMs: 500 },
      })
      const cookie = await a.seed()
      // DynamoDB sets the lease, the answer never arrives, the client retries the same call.
      proxy.inject(
        { kind: 'lose-reply' },
        {
          times: 1,
          match: (op, body) =>
            op === 'UpdateItem' && String(body?.UpdateExpression).startsWith('SET #L = :until'),
        },
      )
      const res = await a.post('/rmw', cookie)
      assert.equal(res.status, 200, 'the request does not wait for its own lease')
      const { item } = await rawItem(conn, cookie)
      assert.equal(item.data.M.n.N, '1')
      assert.equal(item.lease, undefined)
    } finally {
      await proxy.close()
    }
  })

  test('a request whose lease was taken over after it expired saves nothing and gets 503', async () => {
    const conn = await freshTable('lock-lost')
    let cookie = ''
    const a = makeApp(conn, { locking: { leaseMs: 60000, waitMs: 300 } }, async () => {
      // Another request took the lease meanwhile, as after this one's lease ran out.
      const { key } = await rawItem(conn, cookie)
      await ddb('UpdateItem', {
        TableName: conn.table,
        Key: { id: { S: key } },
        UpdateExpression: 'SET #o = :o',
        ExpressionAttributeNames: { '#o': 'leaseOwner' },
        ExpressionAttributeValues: { ':o': { S: 'the-next-request' } },
      })
    })
    cookie = await a.seed()
    const res = await a.post('/rmw', cookie)
    assert.equal(res.status, 503)
    assert.deepEqual(
      a.errors.map((e) => e.code),
      ['LOCK_LOST'],
    )
    const { item } = await rawItem(conn, cookie)
    assert.equal(item.data.M.n, undefined)
    assert.equal(item.leaseOwner.S, 'the-next-request', "the other request's lease is kept")
  })

  test('a read-only request gives the lease back', async () => {
    const conn = await freshTable('lock-read')
    const a = makeApp(conn, { locking: { leaseMs: 60000, waitMs: 300 } })
    const cookie = await a.seed()
    assert.equal((await a.app.request('/read', { headers: { cookie } })).status, 200)
    assert.equal((await rawItem(conn, cookie)).item.lease, undefined)
  })
})

describe('locking: ends, budget and late takes', () => {
  const takes = (a: ReturnType<typeof lifecycleApp>, from: number) =>
    a.gate.calls.slice(from).filter((c) => isLeaseTake(c.op, c.body)).length

  for (const [what, path] of [
    ['destroy()', '/logout'],
    ['regenerate()', '/login'],
  ] as const) {
    test(`${what} whose lease was taken over: 503 LOCK_LOST, nothing changed, and the new holder's save succeeds`, async () => {
      const conn = await freshTable('lock-end-lost')
      const locking = { leaseMs: 1000, waitMs: 500 }
      const late = lifecycleApp(conn, { locking })
      const holder = lifecycleApp(conn, { locking })
      const cookie = await loggedIn(late)
      const clock = virtualClock()
      try {
        // The late request has loaded the session, with its lease, and is about to end it.
        const ending = late.gate.hold(isEnd)
        const slow = late.post(path, cookie)
        await ending.reached
        // Its lease runs out; another request takes the lease and runs its handler.
        clock.advance(2)
        let entered: () => void = () => {}
        let proceed: () => void = () => {}
        const inside = new Promise<void>((r) => {
          entered = r
        })
        const go = new Promise<void>((r) => {
          proceed = r
        })
        holder.pauseWith(async () => {
          entered()
          await go
        })
        const rightful = holder.post('/set/cart/3', cookie)
        await inside
        ending.release()
        const res = await slow
        assert.equal(res.status, 503)
        assert.deepEqual(codes(late), ['LOCK_LOST'])
        assert.deepEqual(res.headers.getSetCookie(), [])

        proceed()
        assert.equal((await rightful).status, 200)
        holder.pauseWith(undefined)
        assert.deepEqual(await holder.whoami(cookie), { user: 'ada', cart: '3' })
        assert.equal(live(await scanAll(conn.table)).length, 1, 'no other session was stored')
        assert.deepEqual(codes(holder), [])
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
      const a = lifecycleApp(
        conn,
        { locking: { leaseMs: 600_000, waitMs: 10_000 }, retry: { budgetMs: 2000 } },
        pausing,
      )
      const cookie = await loggedIn(a)
      await leaveDeadLease(conn, cookie, Date.now() + 600_000)
      const from = a.gate.calls.length
      const res = await a.post('/set/cart/1', cookie)
      assert.equal(res.status, 503)
      assert.equal(res.headers.get('retry-after'), '1')
      assert.deepEqual(codes(a), ['LOCK_TIMEOUT'])
      // Half a second per try: at most five fit in the budget, where waitMs allows twenty.
      const tries = takes(a, from)
      assert.ok(tries <= 5, `${tries} tries to take the lease`)
      assert.equal((await rawItem(conn, cookie)).item.leaseOwner.S, 'crashed-request')
    } finally {
      clock.restore()
    }
  })

  for (const when of ['while the request gives it back', 'after the request gave it back']) {
    test(`a lease take that lands ${when}, the request having given up, does not lock the next request out`, async () => {
      const conn = await freshTable('lock-late-take')
      const a = lifecycleApp(conn, {
        locking: { leaseMs: 60_000, waitMs: 1000 },
        // One attempt per call: a take lost on the wire ends the request.
        retry: { attempts: 1, timeoutMs: 30_000, budgetMs: 60_000 },
      })
      const cookie = await loggedIn(a)
      const take = a.gate.hold(isLeaseTake)
      // What the request does about its lost take, after answering: its first write is held.
      const notATake: Match = (op, body) => op === 'UpdateItem' && !isLeaseTake(op, body)
      const giveBack = a.gate.hold(notATake, 'after')
      const worker = executionContext()
      const gaveUp = a.app.request('/read', { headers: { cookie } }, undefined, worker.ctx)
      await take.reached
      take.lose()
      assert.equal((await gaveUp).status, 503)
      assert.deepEqual(codes(a), ['NETWORK'])

      await giveBack.reached
      if (when.startsWith('while')) await take.deliver()
      giveBack.release()
      await worker.settled()
      if (when.startsWith('after')) await take.deliver()

      const from = a.gate.calls.length
      assert.equal((await a.post('/set/cart/1', cookie)).status, 200, 'not locked out')
      assert.equal(takes(a, from), 1, 'the next request took the lease at its first try')
      assert.deepEqual(await a.whoami(cookie), { user: 'ada', cart: '1' })
    })
  }
})
