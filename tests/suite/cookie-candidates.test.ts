// Every session cookie in the Cookie header is a candidate (at most four are tried): a parent
// domain's sid, or one of ours naming an unknown, ended or expired session, is passed over for the
// next, and the first that verifies and loads wins.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { testApp } from '../support/app.ts'
import { virtualClock } from '../support/clock.ts'
import { CookieSigner, cookieOf, newId } from '../support/cookies.ts'
import { freshTable, patchItem, SECRET } from '../support/dynamodb.ts'
import { opsApp } from '../support/ops.ts'

describe('every sid in the Cookie header is a candidate', () => {
  const other = new CookieSigner(['another-apps-secret-that-is-long-enough-0123'])

  async function signedIn() {
    const conn = await freshTable('dup')
    const a = opsApp(conn)
    const ours = cookieOf((await a.run([{ op: 'set', key: 'user', value: 'ada' }])).res)
    a.reset()
    return { conn, a, ours, value: ours.split('=')[1] }
  }

  test("a parent domain's sid before ours keeps the user signed in, for one GetItem", async (t) => {
    // Sign-in and change in one second, so the expiry does not move and no refreshed cookie is due.
    const clock = virtualClock()
    t.after(clock.restore)
    clock.freeze()
    const { a, value } = await signedIn()
    const foreign = await other.sign(newId())
    const r = await a.run(
      [
        { op: 'get', key: 'user' },
        { op: 'set', key: 'seen', value: true },
      ],
      `sid=${foreign}; sid=${value}`,
    )
    assert.equal(r.isNew, false)
    assert.deepEqual(r.outcomes[0], { type: 'string', value: 'ada' })
    assert.deepEqual(a.ops(), ['GetItem', 'UpdateItem'], 'the foreign one cost nothing')
    assert.deepEqual(r.res.headers.getSetCookie(), [], 'the cookies are left as they are')
  })

  test('a cookie of ours naming an unknown, ended or expired session is passed over for the next', async () => {
    const { a, conn, value } = await signedIn()
    const signer = new CookieSigner([SECRET])
    const unknown = await signer.sign(newId())
    // An ended one: a session logged out in another tab leaves a tombstone.
    const ended = cookieOf((await a.run([{ op: 'set', key: 'x', value: 1 }])).res)
    const expired = cookieOf((await a.run([{ op: 'set', key: 'x', value: 2 }])).res)
    await patchItem(conn, expired, 'SET expires = :e', {
      ':e': { N: String(Math.floor(Date.now() / 1000) - 1) },
    })
    assert.equal((await testApp(conn).post('/logout', ended)).status, 200)
    a.reset()
    const r = await a.run(
      [{ op: 'set', key: 'seen', value: 1 }],
      `sid=${unknown}; ${ended}; ${expired}; sid="${value}"`,
    )
    assert.equal(r.status, 200)
    assert.equal(r.isNew, false, 'the live session, quoted, fourth in line, wins')
    assert.deepEqual(r.data, { user: 'ada', seen: 1 })
    assert.deepEqual(a.ops(), ['GetItem', 'GetItem', 'GetItem', 'GetItem', 'UpdateItem'])
  })

  test('unsigned ids: the first that loads wins', async () => {
    const conn = await freshTable('dup-unsigned')
    const a = opsApp(conn, { secret: undefined })
    const set = await a.run([{ op: 'set', key: 'user', value: 'bob' }])
    const ours = cookieOf(set.res).split('=')[1]
    assert.match(ours, /^[A-Za-z0-9_-]{43}$/)
    const r = await a.run([{ op: 'get', key: 'user' }], `sid=${newId()}; sid=; sid=${ours}`)
    assert.equal(r.isNew, false)
    assert.deepEqual(r.outcomes[0], { type: 'string', value: 'bob' })
  })

  test('at most four candidates are tried', async () => {
    const { a, value } = await signedIn()
    const signer = new CookieSigner([SECRET])
    const unknowns = await Promise.all(Array.from({ length: 4 }, () => signer.sign(newId())))
    const header = `${unknowns.map((u) => `sid=${u}`).join('; ')}; sid=${value}`
    const r = await a.run([{ op: 'get', key: 'user' }], header)
    assert.equal(r.isNew, true, 'the fifth is not read')
    assert.deepEqual(a.ops(), ['GetItem', 'GetItem', 'GetItem', 'GetItem'])
    a.reset()
    const three = `${unknowns
      .slice(0, 3)
      .map((u) => `sid=${u}`)
      .join('; ')}; sid=${value}`
    assert.equal((await a.run([], three)).isNew, false, 'the fourth is')
  })
})
