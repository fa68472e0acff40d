// docs/guarantees.md: "A stale request never replaces a newer cookie. A request sent with a
// pre-sign-in cookie that answers after the sign-in gets no Set-Cookie, with or without
// locking." Two ways it does, both ending with the browser signed out; out of the default run
// (`node --import tsx --test tests/violations/*.test.ts` runs them), reported, not fixed:
//
// - a change whose write lands before the sign-in ends the session, but whose reply comes after
//   the sign-in answered: it is answered 200 (rightly: its change is in the new session) with the
//   old session's refreshed cookie, which replaces the sign-in's;
// - a read through a cookie ended past the grace, answering after a sign-in through the same
//   cookie: it clears the cookie, which is now the sign-in's.
//
// The server cannot know of the sign-in in either case (the first write, or the read, is done
// before the sign-in ends the session), and a network may deliver answers in any order anyway:
// the rule can hold only if such answers carry no Set-Cookie at all.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { testApp } from '../support/app.ts'
import { virtualClock } from '../support/clock.ts'
import { CookieJar } from '../support/cookies.ts'
import { freshTable } from '../support/dynamodb.ts'
import { isSave } from '../support/fetch.ts'

test('a change applied before a sign-in ended its session, answering after the sign-in, sets no cookie', async () => {
  const conn = await freshTable('violation-refresh')
  const [tab1, tab2] = [testApp(conn), testApp(conn)]
  const jar = new CookieJar()
  jar.store(await tab1.post('/set/user/ada'))
  const clock = virtualClock()
  try {
    clock.advance(5) // the expiry moves: a change refreshes the cookie
    const applied = tab2.hold(isSave, 'after')
    const change = jar.send(tab2.app, '/set/cart/3', 'POST')
    await applied.reached
    assert.equal((await jar.send(tab1.app, '/login', 'POST')).status, 200)
    const signedIn = jar.header()
    applied.release()
    const res = await change
    assert.equal(res.status, 200, 'the change is stored (in the new session)')
    assert.deepEqual(res.headers.getSetCookie(), [], 'no cookie after the sign-in answered')
    assert.equal(jar.header(), signedIn)
  } finally {
    clock.restore()
  }
})

test('a read through a cookie ended past the grace, answering after a sign-in, does not clear its cookie', async () => {
  const conn = await freshTable('violation-clear')
  const [tab1, tab2, elsewhere] = [testApp(conn), testApp(conn), testApp(conn)]
  const jar = new CookieJar()
  jar.store(await tab1.post('/set/user/ada'))
  // Signed out from elsewhere (a revocation would do the same): the browser keeps its cookie.
  assert.equal((await elsewhere.post('/logout', jar.header())).status, 200)
  const clock = virtualClock()
  try {
    clock.advance(61) // past the grace
    const loaded = tab2.hold((op) => op === 'GetItem', 'after')
    const read = jar.send(tab2.app, '/read')
    await loaded.reached
    assert.equal((await jar.send(tab1.app, '/login', 'POST')).status, 200)
    const signedIn = jar.header()
    loaded.release()
    assert.equal((await read).status, 200)
    assert.equal(jar.header(), signedIn, 'the sign-in cookie is still there')
  } finally {
    clock.restore()
  }
})
