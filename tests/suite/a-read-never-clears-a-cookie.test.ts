// A read never clears a cookie: a read through a cookie ended past the grace that answers after
// a sign-in through the same cookie would otherwise clear the sign-in's cookie, signing the
// browser out. Found by the model test (tests/model/).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { freshTable } from '../helpers.ts'
import { CookieJar, makeApp, virtualClock } from '../lifecycle.ts'

test('a read through a cookie ended past the grace, answering after a sign-in, does not clear its cookie', async () => {
  const conn = await freshTable('violation-clear')
  const [tab1, tab2, elsewhere] = [makeApp(conn), makeApp(conn), makeApp(conn)]
  const jar = new CookieJar()
  jar.store(await tab1.post('/set/user/ada'))
  // Signed out from elsewhere (a revocation would do the same): the browser keeps its cookie.
  assert.equal((await elsewhere.post('/logout', jar.header())).status, 200)
  const clock = virtualClock()
  try {
    clock.advance(61) // past the grace
    const loaded = tab2.gate.hold((op) => op === 'GetItem', 'after')
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
