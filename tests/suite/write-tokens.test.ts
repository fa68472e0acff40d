// Write tokens (the `w` map) are what lets a retry recognise a write DynamoDB already applied. They
// must not make a busy session's item grow: a plain SET/REMOVE retried writes the same values
// again and carries none; increments do, and a later write removes tokens once no retry of theirs
// can still come (the retry budget plus room for clock differences between instances).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type TestApp, testApp } from '../support/app.ts'
import { virtualClock } from '../support/clock.ts'
import { cookieFrom } from '../support/cookies.ts'
import { freshTable, rawItem } from '../support/dynamodb.ts'
import { callOf } from '../support/fetch.ts'

const tokensOf = (item: { w?: { M?: object } } | undefined) => Object.keys(item?.w?.M ?? {})

describe('write tokens', () => {
  test('a session changed 200 times in a row by plain sets keeps no write token', async () => {
    const conn = await freshTable('tokens-set')
    const a = testApp(conn)
    const cookie = cookieFrom(await a.post('/set/user/ada')) as string
    for (let i = 0; i < 200; i++) {
      assert.equal((await a.post(`/set/cart/${i}`, cookie)).status, 200)
    }
    const item = await rawItem(conn, cookie)
    assert.equal(item?.data.M.cart.S, '199')
    assert.deepEqual(tokensOf(item), [], 'the item does not grow with the number of changes')
  })

  test('an increment carries a token, and a write after the retry budget has passed removes it', async () => {
    const conn = await freshTable('tokens-inc')
    const clock = virtualClock()
    try {
      const a = testApp(conn, { retry: { budgetMs: 10_000 } })
      const cookie = cookieFrom(await a.post('/set/user/ada')) as string
      assert.equal((await a.post('/increment/n', cookie)).status, 200)
      const first = tokensOf(await rawItem(conn, cookie))
      assert.equal(first.length, 1, 'the increment wrote its token')
      // Within the budget (10 s) plus 30 s, the token stays: a retry of it may still come.
      clock.advance(39)
      assert.equal((await a.post('/increment/n', cookie)).status, 200)
      const both = tokensOf(await rawItem(conn, cookie))
      assert.equal(both.length, 2)
      assert.ok(both.includes(first[0]))
      // Past it, the next write removes it.
      clock.advance(2)
      assert.equal((await a.post('/increment/n', cookie)).status, 200)
      const later = tokensOf(await rawItem(conn, cookie))
      assert.ok(!later.includes(first[0]), 'the old token is gone')
      assert.equal(later.length, 2, 'the second token (39 s old) stays with the third')
      assert.equal((await rawItem(conn, cookie))?.data.M.n.N, '3')
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
