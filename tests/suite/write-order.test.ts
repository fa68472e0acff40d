// Every operation of several writes is ordered so that a failure leaves the stored session as it
// was and no orphan behind: destroy() followed by a write (a goodbye flash), like a sign-in,
// writes its new item first and ends the old session last; a new item that cannot be kept is
// buried.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { loggedIn, testApp } from '../support/app.ts'
import { freshTable, live, rawItem, scanAll } from '../support/dynamodb.ts'
import { isEnd, isNewItem } from '../support/fetch.ts'

const KB = 1024

/** An app whose routes write more than one item, on a signed-in session. */
async function signedIn(prefix: string) {
  const conn = await freshTable(prefix)
  const a = testApp(conn, { retry: { attempts: 2, timeoutMs: 30000, budgetMs: 60000 } })
  // Sign out, then write to the new session: a goodbye flash, or far too much.
  a.app.post('/signout-with/:size', (c) => {
    const session = c.get('session')
    session.destroy()
    session.flash('notice', 'signed out')
    session.set('blob', 'x'.repeat(Number(c.req.param('size')) * KB))
    return c.text('bye')
  })
  // A sign-in carrying a large profile, next to a request that grows the session.
  a.app.post('/login-with-profile', (c) => {
    c.get('session').set('profile', 'p'.repeat(250 * KB))
    c.get('session').regenerate()
    return c.text('welcome')
  })
  a.app.post('/grow', (c) => {
    c.get('session').set('blob', 'b'.repeat(250 * KB))
    return c.text('ok')
  })
  const cookie = await loggedIn(a)
  return { conn, a, cookie }
}

describe('write order', () => {
  const failures = [
    { what: 'too large to store', kb: 410, down: false, status: 500, code: 'TOO_LARGE' },
    { what: 'DynamoDB cannot take', kb: 1, down: true, status: 503, code: 'UNAVAILABLE' },
  ]
  for (const { what, kb, down, status, code } of failures) {
    test(`destroy() then a write whose new session ${what}: ${status}, and the old session is as it was`, async () => {
      const { conn, a, cookie } = await signedIn('order-destroy')
      const before = await rawItem(conn, cookie)
      if (down) a.failEvery(isNewItem, 'unavailable')
      const res = await a.post(`/signout-with/${kb}`, cookie)
      assert.equal(res.status, status)
      assert.deepEqual(res.headers.getSetCookie(), [])
      assert.deepEqual(a.codes(), [code])
      assert.deepEqual(await rawItem(conn, cookie), before, 'the old session was not ended')
      assert.deepEqual(await a.whoami(cookie), { user: 'ada' })
      assert.equal(live(await scanAll(conn.table)).length, 1, 'no orphan')
    })
  }

  test('a sign-in whose replay is too large (another request grew the session meanwhile): 500, and no live item is left behind', async () => {
    const { conn, a, cookie } = await signedIn('order-orphan')
    // The sign-in has written its new item (with the profile) and waits to end the old one.
    const held = a.hold(isEnd)
    const login = a.post('/login-with-profile', cookie)
    await held.reached
    assert.equal((await a.post('/grow', cookie)).status, 200)
    held.release()
    const res = await login
    assert.equal(res.status, 500)
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.deepEqual(a.codes(), ['TOO_LARGE'])
    const items = live(await scanAll(conn.table))
    assert.equal(items.length, 1, 'only the old session is live: the new item was buried')
    assert.deepEqual(Object.keys(items[0].data.M).sort(), ['blob', 'user'])
    assert.deepEqual(Object.keys((await a.whoami(cookie)) ?? {}), ['blob', 'user'])
  })
})
