// Every operation of several writes is ordered so that a failure leaves the stored session as it
// was and no orphan behind: destroy() followed by a write (a goodbye flash), like a sign-in,
// writes its new item first and ends the old session last; a new item that cannot be kept is
// buried.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { freshTable, scanAll } from '../helpers.ts'
import { cookieFrom, isEnd, isNewItem, live, makeApp, rawItem } from '../lifecycle.ts'

const codes = (a: { errors: { code: string }[] }) => a.errors.map((e) => e.code)
const KB = 1024

/** An app whose routes write more than one item, on a signed-in session. */
async function signedIn(prefix: string) {
  const conn = await freshTable(prefix)
  const a = makeApp(conn, { retry: { attempts: 2, timeoutMs: 30000, budgetMs: 60000 } })
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
  const cookie = cookieFrom(await a.post('/set/user/ada'))
  assert.ok(cookie)
  return { conn, a, cookie }
}

describe('write order', () => {
  test('destroy() then a write too large to store: 500, and the old session is as it was', async () => {
    const { conn, a, cookie } = await signedIn('order-large')
    const before = await rawItem(conn, cookie)
    const res = await a.post('/signout-with/410', cookie)
    assert.equal(res.status, 500)
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.deepEqual(codes(a), ['TOO_LARGE'])
    assert.deepEqual(await rawItem(conn, cookie), before, 'the old session was not ended')
    assert.deepEqual(await a.whoami(cookie), { user: 'ada' })
    assert.equal(live(await scanAll(conn.table)).length, 1, 'no orphan')
  })

  test('destroy() then a write whose new session DynamoDB cannot take: 503, and the old session is as it was', async () => {
    const { conn, a, cookie } = await signedIn('order-down')
    const before = await rawItem(conn, cookie)
    a.gate.failEvery(isNewItem, 'unavailable')
    const res = await a.post('/signout-with/1', cookie)
    assert.equal(res.status, 503)
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.deepEqual(codes(a), ['UNAVAILABLE'])
    assert.deepEqual(await rawItem(conn, cookie), before, 'the old session was not ended')
    assert.deepEqual(await a.whoami(cookie), { user: 'ada' })
    assert.equal(live(await scanAll(conn.table)).length, 1, 'no orphan')
  })

  test('a sign-in whose replay is too large (another request grew the session meanwhile): 500, and no live item is left behind', async () => {
    const { conn, a, cookie } = await signedIn('order-orphan')
    // The sign-in has written its new item (with the profile) and waits to end the old one.
    const held = a.gate.hold(isEnd)
    const login = a.post('/login-with-profile', cookie)
    await held.reached
    assert.equal((await a.post('/grow', cookie)).status, 200)
    held.release()
    const res = await login
    assert.equal(res.status, 500)
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.deepEqual(codes(a), ['TOO_LARGE'])
    const items = live(await scanAll(conn.table))
    assert.equal(items.length, 1, 'only the old session is live: the new item was buried')
    assert.deepEqual(Object.keys(items[0].data.M).sort(), ['blob', 'user'])
    assert.deepEqual(Object.keys((await a.whoami(cookie)) ?? {}), ['blob', 'user'])
  })
})
