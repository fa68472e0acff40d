// Write tokens (the `w` map) are what makes every write exactly-once: a retry of a write DynamoDB
// already applied finds its token and is recognised; a late duplicate finds its token, or a floor
// (`wf`) above its time, and changes nothing. They must not make a busy session's item grow: a
// write keeps the tokens of writes sent in the last RECENT_MS (they may still be in flight) and at
// most MAX_TOKENS older ones, removes those older than the retry budget plus 5 s, and raises the
// floor past what it removes.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MAX_TOKENS, PRUNE_BATCH, RECENT_MS } from '../../src/store/tokens.ts'
import { loggedIn, type TestApp, testApp } from '../support/app.ts'
import { virtualClock } from '../support/clock.ts'
import { cookieFrom } from '../support/cookies.ts'
import { freshTable, rawItem } from '../support/dynamodb.ts'
import { callOf, isSave } from '../support/fetch.ts'

const tokensOf = (item: { w?: { M?: object } } | undefined) => Object.keys(item?.w?.M ?? {})

describe('write tokens', () => {
  test(`a session changed 200 times, ${RECENT_MS / 1000 + 1} s apart, keeps at most ${MAX_TOKENS + PRUNE_BATCH} tokens (${MAX_TOKENS}, and fewer than ${PRUNE_BATCH} waiting to be pruned)`, async () => {
    const conn = await freshTable('tokens-set')
    // A budget long enough that the cap, not the age, prunes.
    const a = testApp(conn, { retry: { timeoutMs: 30_000, budgetMs: 120_000 } })
    const cookie = cookieFrom(await a.post('/set/user/ada')) as string
    const clock = virtualClock()
    try {
      for (let i = 0; i < 200; i++) {
        clock.advance(RECENT_MS / 1000 + 1)
        assert.equal((await a.post(`/set/cart/${i}`, cookie)).status, 200)
      }
    } finally {
      clock.restore()
    }
    const item = await rawItem(conn, cookie)
    assert.equal(item?.data.M.cart.S, '199')
    const tokens = tokensOf(item)
    assert.ok(
      tokens.length > MAX_TOKENS && tokens.length <= MAX_TOKENS + PRUNE_BATCH,
      `${tokens.length} tokens`,
    )
    // Every token removed lies below the floor, so a late duplicate of its write is refused.
    const times = Object.values(item.w.M as Record<string, { N: string }>).map((t) => Number(t.N))
    assert.ok(Number(item.wf.N) > 0, 'the floor rose')
    assert.ok(Number(item.wf.N) <= Math.min(...times), 'no kept token lies below the floor')
  })

  test(`a change whose first attempt is lost while ${MAX_TOKENS + 4} others land is applied once by its retry`, async () => {
    // Many requests on one session at once: the tokens of writes sent moments ago are never
    // pruned, so no floor refuses the retry of a write still in flight (it would fail CONTENDED).
    const conn = await freshTable('tokens-recent')
    const [slow, busy] = [testApp(conn), testApp(conn)]
    const cookie = await loggedIn(slow)
    // Time moves only by the test: 10 ms between writes, however loaded the machine.
    const real = Date.now
    let now = real()
    Date.now = () => now
    let res: Response
    try {
      const first = slow.hold(isSave)
      const change = slow.post('/increment/n', cookie)
      await first.reached
      for (let i = 0; i < MAX_TOKENS + 4; i++) {
        now += 10
        assert.equal((await busy.post('/increment/n', cookie)).status, 200)
      }
      first.lose()
      res = await change
    } finally {
      Date.now = real
    }
    assert.equal(res.status, 200, `answered ${res.status} (${slow.errors.map((e) => e.code)})`)
    const item = await rawItem(conn, cookie)
    assert.equal(item?.data.M.n.N, String(MAX_TOKENS + 5), 'every increment counted once')
  })

  test(`every write carries a token; ${PRUNE_BATCH} older than the retry budget plus 5 s are removed together by a later write`, async () => {
    const conn = await freshTable('tokens-age')
    const clock = virtualClock()
    try {
      const a = testApp(conn, { retry: { budgetMs: 10_000 } })
      const cookie = cookieFrom(await a.post('/set/user/ada')) as string
      const created = tokensOf(await rawItem(conn, cookie))
      assert.equal(created.length, 1, 'the new session carries the token of its first write')
      assert.equal((await a.post('/set/cart/1', cookie)).status, 200)
      const first = tokensOf(await rawItem(conn, cookie)).filter((t) => !created.includes(t))
      assert.equal(first.length, 1, 'a plain set wrote its token')
      for (let i = 2; i < PRUNE_BATCH; i++) {
        assert.equal((await a.post(`/set/cart/${i}`, cookie)).status, 200)
      }
      const old = tokensOf(await rawItem(conn, cookie))
      assert.equal(old.length, PRUNE_BATCH)
      // Within the budget (10 s) plus 5 s, the tokens stay: a retry of theirs may still come.
      clock.advance(14)
      assert.equal((await a.post('/set/cart/a', cookie)).status, 200)
      assert.equal(tokensOf(await rawItem(conn, cookie)).length, PRUNE_BATCH + 1)
      // Past it, the next write removes them and raises the floor past their times.
      clock.advance(2)
      assert.equal((await a.post('/set/cart/b', cookie)).status, 200)
      const item = await rawItem(conn, cookie)
      const later = tokensOf(item)
      assert.ok(!old.some((t) => later.includes(t)), 'the old tokens are gone')
      assert.equal(later.length, 2, 'the token written 2 s ago stays with the new one')
      const times = Object.values(item.w.M as Record<string, { N: string }>).map((t) => Number(t.N))
      assert.ok(Number(item.wf.N) > 0, 'the floor rose')
      assert.ok(Number(item.wf.N) <= Math.min(...times), 'no kept token lies below the floor')
      assert.equal(item.data.M.cart.S, 'b')
    } finally {
      clock.restore()
    }
  })

  test('a long handler whose increment is retried after its reply was lost counts once, even when a later request wrote between', async () => {
    const conn = await freshTable('r2window')
    let lost = false
    let other: TestApp | undefined
    let cookie = ''
    const a = testApp(conn, {
      fetch: async (input, init) => {
        const { op, body } = await callOf(input, init)
        const names = Object.values(body?.ExpressionAttributeNames ?? {})
        if (!other || lost || op !== 'UpdateItem' || !names.includes('n')) return fetch(input, init)
        // The slow request's save: DynamoDB applies it, another request of the session writes,
        // then the reply is lost and the client retries.
        lost = true
        const applied = await fetch(input, init)
        assert.equal(applied.status, 200)
        assert.equal((await other.post('/increment/n', cookie)).status, 200)
        throw new TypeError('fetch failed: connection reset')
      },
    })
    // A handler that takes a minute (a slow upstream call), by the clock the middleware reads.
    const clock = virtualClock()
    try {
      a.app.post('/slow-increment', (c) => {
        c.get('session').increment('n')
        clock.advance(60)
        return c.text('ok')
      })
      cookie = cookieFrom(await a.post('/increment/n')) as string
      other = testApp(conn)
      assert.equal((await a.post('/slow-increment', cookie)).status, 200)
      assert.ok(lost)
    } finally {
      clock.restore()
    }
    // 1 (first request) + 1 (slow) + 1 (the request in between).
    assert.equal((await a.whoami(cookie))?.n, 3)
    assert.deepEqual(a.errors, [])
  })
})
