// Nobody is locked out: a sign-in works at once whatever the cookie names, a sign-out of an ended
// session answers 200 and clears the cookie, and a cookie naming an ended session is refused
// changes only for the grace (60 s from the end), after which it is no cookie at all. The
// browser is a cookie jar that, like a real one, keeps its old cookie when an answer never came.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { freshTable, scanAll } from '../helpers.ts'
import { CookieJar, codes, cookieFrom, isEnd, live, makeApp, virtualClock } from '../lifecycle.ts'

/** A browser signed in to a session holding a theme, and the app it talks to. */
async function browsing(prefix: string) {
  const conn = await freshTable(prefix)
  const a = makeApp(conn)
  const jar = new CookieJar()
  jar.store(await a.post('/set/theme/light'))
  const cookie = jar.header()
  assert.ok(cookie)
  return { conn, a, jar, cookie }
}

describe('sign-in always works', () => {
  test('after a sign-out whose answer never reached the browser, signing in through the old cookie works at once, from an empty session', async () => {
    const { conn, a, jar, cookie } = await browsing('in-tomb')
    // The sign-out is applied; its answer (the cleared cookie) is lost on the way back.
    assert.equal((await a.post('/logout', cookie)).status, 200)
    assert.equal(jar.header(), cookie, 'the browser still sends the old cookie')

    const login = await jar.send(a.app, '/login', 'POST')
    assert.equal(login.status, 200)
    assert.notEqual(jar.header(), cookie, 'the browser holds a new cookie')
    assert.deepEqual(await a.whoami(jar.header()), { user: 'ada' }, 'nothing of the ended session')
    assert.equal(live(await scanAll(conn.table)).length, 1)
    assert.deepEqual(codes(a), [])
  })

  test('a sign-out retried after its first answer was lost answers 200 and clears the cookie', async () => {
    const { a, jar, cookie } = await browsing('in-relogout')
    assert.equal((await a.post('/logout', cookie)).status, 200)

    const retry = await jar.send(a.app, '/logout', 'POST')
    assert.equal(retry.status, 200)
    assert.match(retry.headers.get('set-cookie') ?? '', /^sid=;.*Max-Age=0/)
    assert.equal(jar.header(), undefined, 'the browser dropped the cookie')
    assert.deepEqual(codes(a), [])
  })

  test('a sign-in whose end of the old session never gets an answer: 503, and the next sign-in through the same cookie works at once', async () => {
    const { conn, a, jar, cookie } = await browsing('in-noreply')
    // DynamoDB applies every attempt to end the old session; no reply ever comes back.
    a.gate.failEvery(isEnd, 'reply-lost')
    const first = await jar.send(a.app, '/login', 'POST')
    assert.equal(first.status, 503)
    assert.deepEqual(first.headers.getSetCookie(), [])
    assert.deepEqual(codes(a), ['NETWORK'])
    assert.equal(jar.header(), cookie)
    assert.deepEqual(live(await scanAll(conn.table)), [], 'the new item was buried')

    // The user tries again, through a server whose link to DynamoDB works.
    const healthy = makeApp(conn)
    const second = await jar.send(healthy.app, '/login', 'POST')
    assert.equal(second.status, 200, 'not locked out')
    assert.deepEqual(await healthy.whoami(jar.header()), { user: 'ada' })
    assert.equal(live(await scanAll(conn.table)).length, 1)
    assert.deepEqual(codes(healthy), [])
  })
})

// Within the grace is tested ten seconds short of it, room for a slow machine's real time.
describe('the grace after an end', () => {
  test('a change within the 60 s after the end is refused with 409 and no cookie; after it, it starts a new session', async () => {
    const { a, cookie } = await browsing('grace-change')
    const clock = virtualClock()
    try {
      assert.equal((await a.post('/logout', cookie)).status, 200)
      clock.advance(50)
      const within = await a.post('/set/cart/1', cookie)
      assert.equal(within.status, 409)
      assert.deepEqual(within.headers.getSetCookie(), [])
      assert.deepEqual(codes(a), ['SESSION_GONE'])

      clock.advance(11)
      const after = await a.post('/set/cart/2', cookie)
      assert.equal(after.status, 200, 'past the grace the ended cookie is no cookie')
      const fresh = cookieFrom(after)
      assert.ok(fresh && fresh !== cookie, 'a new id')
      assert.deepEqual(await a.whoami(fresh), { cart: '2' })
      assert.equal(await a.whoami(cookie), null, 'the ended session stays ended')
    } finally {
      clock.restore()
    }
  })

  test('a read through an ended cookie leaves it alone, within the grace and after it', async () => {
    const { a, cookie } = await browsing('grace-read')
    const clock = virtualClock()
    try {
      assert.equal((await a.post('/logout', cookie)).status, 200)
      clock.advance(50)
      const within = await a.get('/read', cookie)
      assert.equal(within.status, 200)
      assert.deepEqual(within.headers.getSetCookie(), [])

      clock.advance(11)
      const after = await a.get('/read', cookie)
      assert.equal(after.status, 200)
      assert.deepEqual(await after.json(), { isNew: true, data: {} })
      assert.deepEqual(after.headers.getSetCookie(), [], 'a read never clears a cookie')
      assert.deepEqual(codes(a), [])
    } finally {
      clock.restore()
    }
  })
})
