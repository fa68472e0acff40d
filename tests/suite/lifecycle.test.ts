// Logins, logouts and changes racing each other, forced into a chosen order by holding one
// request's DynamoDB call: a logout is never undone, a 2xx change is never lost, a request sent
// before a login never logs the user out, and a write after a logout resurrects nothing.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { streamText } from 'hono/streaming'
import { loggedIn, testApp, whileHeld } from '../support/app.ts'
import { latch } from '../support/clock.ts'
import { codesOf, withConsoleError } from '../support/console.ts'
import { CookieJar, cookieFrom } from '../support/cookies.ts'
import { freshTable, live, patchItem, rawItem, scanAll } from '../support/dynamodb.ts'
import { isEnd, isLeaseTake, isNewItem, isSave } from '../support/fetch.ts'

describe('destroy vs regenerate', () => {
  for (const [where, hold] of [
    ['before its new item is written', isNewItem],
    ['between its new item and the end of the old one', isEnd],
  ] as const) {
    test(`a logout that lands while a login is ${where}: the login gets 409 and leaves nothing`, async () => {
      const conn = await freshTable('life-dr')
      const tab1 = testApp(conn)
      const tab2 = testApp(conn)
      const cookie = await loggedIn(tab2)
      const held = tab1.hold(hold)
      const login = tab1.post('/login', cookie)
      await held.reached
      const logout = await tab2.post('/logout', cookie)
      assert.equal(logout.status, 200)
      assert.match(logout.headers.get('set-cookie') ?? '', /Max-Age=0/)
      held.release()
      const res = await login
      assert.equal(res.status, 409, 'the login cannot move a session that was logged out')
      assert.deepEqual(
        res.headers.getSetCookie(),
        [],
        'no cookie for a session that does not exist',
      )
      assert.deepEqual(tab1.codes(), ['SESSION_GONE'])
      assert.deepEqual(live(await scanAll(conn.table)), [], 'no live item is left behind')
      assert.equal(await tab2.whoami(cookie), null, 'the logout holds')
    })
  }

  test('a login that lands while a logout is held: the logout gets 409, the new session lives', async () => {
    const conn = await freshTable('life-rd')
    const tab1 = testApp(conn)
    const tab2 = testApp(conn)
    const jar = new CookieJar()
    jar.store(await tab2.post('/set/user/ada'))
    // The logout has read the session; its tombstone waits while the login completes.
    const held = tab2.hold(isEnd)
    const logout = jar.send(tab2.app, '/logout', 'POST')
    await held.reached
    const login = await jar.send(tab1.app, '/login', 'POST')
    assert.equal(login.status, 200)
    held.release()
    const out = await logout
    // The logout named a session the login had already ended: it is refused, visibly, rather
    // than answered 200 while the user stays logged in under the new id.
    assert.equal(out.status, 409)
    assert.deepEqual(out.headers.getSetCookie(), [])
    assert.deepEqual(tab2.codes(), ['SESSION_GONE'])
    assert.deepEqual(await tab1.whoami(jar.header()), { user: 'ada' })
    // A logout sent with the new cookie ends it for good.
    assert.equal((await jar.send(tab2.app, '/logout', 'POST')).status, 200)
    assert.equal(jar.header(), undefined, 'the browser dropped the cookie')
    assert.equal(await tab1.whoami(cookieFrom(login)), null)
    assert.deepEqual(live(await scanAll(conn.table)), [])
  })

  test('whatever the order, a logout answered 200 is never undone by a login', async () => {
    const conn = await freshTable('life-any')
    for (const first of ['login', 'logout'] as const) {
      const tab1 = testApp(conn)
      const tab2 = testApp(conn)
      const cookie = await loggedIn(tab2)
      // Both requests have read the session before either writes.
      const loginLoaded = tab1.hold((op) => op === 'GetItem', 'after')
      const logoutLoaded = tab2.hold((op) => op === 'GetItem', 'after')
      const login = tab1.post('/login', cookie)
      const logout = tab2.post('/logout', cookie)
      await Promise.all([loginLoaded.reached, logoutLoaded.reached])
      const [a, b] = first === 'login' ? [loginLoaded, logoutLoaded] : [logoutLoaded, loginLoaded]
      a.release()
      await (first === 'login' ? login : logout)
      b.release()
      const [li, lo] = await Promise.all([login, logout])
      assert.deepEqual(
        [li.status, lo.status].sort(),
        [200, 409],
        `${first} first: one wins, the other is refused`,
      )
      const regenerated = cookieFrom(li)
      if (lo.status === 200) {
        assert.equal(regenerated, undefined)
        assert.equal(await tab1.whoami(cookie), null)
      } else {
        assert.deepEqual(await tab1.whoami(regenerated), { user: 'ada' })
      }
    }
  })
})

describe('a change vs a concurrent login', () => {
  test('the change saved after the login ended the session: 409, never a lost 200', async () => {
    const conn = await freshTable('life-cr')
    const tab1 = testApp(conn)
    const tab2 = testApp(conn)
    const cookie = await loggedIn(tab1)
    let login = new Response()
    const res = await whileHeld(
      tab2,
      isSave,
      () => tab2.post('/set/cart/3', cookie),
      async () => {
        login = await tab1.post('/login', cookie)
        assert.equal(login.status, 200)
      },
    )
    assert.equal(res.status, 409)
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.deepEqual(tab2.codes(), ['SESSION_GONE'])
    assert.deepEqual(await tab1.whoami(cookieFrom(login)), { user: 'ada' })
  })

  for (const [where, hold] of [
    ['before its new item is written', isNewItem],
    ['between its new item and the end of the old one', isEnd],
  ] as const) {
    test(`a change saved while the login is ${where}: 200 and the change is in the new session`, async () => {
      const conn = await freshTable('life-rc')
      const tab1 = testApp(conn)
      const tab2 = testApp(conn)
      const cookie = await loggedIn(tab1)
      const res = await whileHeld(
        tab1,
        hold,
        () => tab1.post('/login', cookie),
        async () => {
          assert.equal((await tab2.post('/set/cart/3', cookie)).status, 200)
        },
      )
      assert.equal(res.status, 200)
      assert.deepEqual(await tab1.whoami(cookieFrom(res)), { user: 'ada', cart: '3' })
      assert.equal(live(await scanAll(conn.table)).length, 1, 'one live session')
      assert.equal(await tab1.whoami(cookie), null, 'the old id is ended')
    })
  }
})

describe('a request sent before a login answers after it', () => {
  const cases = [
    ['reads the session', '/read', 'GET', 200],
    ['changes the session', '/set/theme/dark', 'POST', 409],
    ['counts an anonymous visit', '/increment/visits', 'POST', 409],
  ] as const
  for (const [what, path, method, status] of cases) {
    for (const loaded of ['before', 'after'] as const) {
      test(`it ${what}, having loaded ${loaded} the login: the browser stays logged in`, async () => {
        const conn = await freshTable('life-pre')
        const server = testApp(conn)
        const slow = testApp(conn)
        const jar = new CookieJar()
        jar.store(await server.post('/set/theme/light'))
        // 'before': the slow request read the pre-login session, its answer comes late;
        // 'after': its read reaches DynamoDB only once the login is done.
        const held = slow.hold((op) => op === 'GetItem', loaded === 'before' ? 'after' : 'before')
        const early = jar.send(slow.app, path, method)
        await held.reached
        const login = await jar.send(server.app, '/login', 'POST')
        assert.equal(login.status, 200)
        held.release()
        const res = await early
        assert.equal(res.status, status)
        assert.deepEqual(res.headers.getSetCookie(), [], 'the late answer touches no cookie')
        assert.deepEqual(await server.whoami(jar.header()), { user: 'ada', theme: 'light' })
        assert.equal(live(await scanAll(conn.table)).length, 1, 'no anonymous session was made')
      })
    }
  }

  test('a read-only request whose touch is due, answering after the login: no cookie', async () => {
    const conn = await freshTable('life-pre-touch')
    const server = testApp(conn)
    const slow = testApp(conn)
    const jar = new CookieJar()
    jar.store(await server.post('/set/theme/light'))
    // Written a day less touchAfter ago: a read now is a due touch.
    await patchItem(conn, jar.header() as string, 'SET expires = expires - :d', {
      ':d': { N: '8640' },
    })
    const held = slow.hold((op) => op === 'GetItem', 'after')
    const early = jar.send(slow.app, '/read')
    await held.reached
    jar.store(await server.post('/login', jar.header()))
    held.release()
    const res = await early
    assert.equal(res.status, 200)
    assert.ok(
      slow.calls.some((c) => c.op === 'UpdateItem'),
      'the touch was due and tried',
    )
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.deepEqual(await server.whoami(jar.header()), { user: 'ada', theme: 'light' })
  })

  for (const [what, path, method, status] of cases) {
    test(`with locking, a request queued behind the login's lease ${what}: the browser stays logged in`, async () => {
      const conn = await freshTable('life-pre-lock')
      const locking = { leaseMs: 60000, waitMs: 20000 }
      const server = testApp(conn, { locking })
      const queued = testApp(conn, { locking })
      const jar = new CookieJar()
      jar.store(await server.post('/set/theme/light'))
      // The login holds the lease while its new item waits.
      const loginHeld = server.hold(isNewItem)
      const login = jar.send(server.app, '/login', 'POST')
      await loginHeld.reached
      // The queued request found the lease taken at least once.
      const refused = queued.hold(isLeaseTake, 'after')
      const early = jar.send(queued.app, path, method)
      await refused.reached
      refused.release()
      loginHeld.release()
      assert.equal((await login).status, 200)
      const res = await early
      assert.equal(res.status, status)
      assert.ok(queued.calls.filter((c) => isLeaseTake(c.op, c.body)).length >= 2)
      assert.deepEqual(res.headers.getSetCookie(), [], 'the queued answer touches no cookie')
      assert.deepEqual(await server.whoami(jar.header()), { user: 'ada', theme: 'light' })
      assert.equal(live(await scanAll(conn.table)).length, 1, 'no anonymous session was made')
    })
  }
})

describe('a write racing a logout', () => {
  for (const [what, path] of [
    ['a set', '/set/late/1'],
    ['an increment', '/increment/n'],
  ] as const) {
    test(`${what} saved after the logout: 409, no cookie, nothing resurrected`, async () => {
      const conn = await freshTable('life-wd')
      const tab1 = testApp(conn)
      const tab2 = testApp(conn)
      const cookie = await loggedIn(tab2)
      const held = tab1.hold(isSave)
      const write = tab1.post(path, cookie)
      await held.reached
      assert.equal((await tab2.post('/logout', cookie)).status, 200)
      held.release()
      const res = await write
      assert.equal(res.status, 409)
      assert.equal(await res.text(), 'Conflict')
      assert.deepEqual(res.headers.getSetCookie(), [], 'no Set-Cookie on the 409')
      assert.deepEqual(tab1.codes(), ['SESSION_GONE'])
      assert.deepEqual(live(await scanAll(conn.table)), [])
      assert.equal(await tab1.whoami(cookie), null)
      assert.equal((await rawItem(conn, cookie))?.data, undefined, 'the tombstone holds no data')
    })
  }

  test('a write that loads the session after the logout: 409, no cookie, nothing written', async () => {
    const conn = await freshTable('life-wd2')
    const tab1 = testApp(conn)
    const tab2 = testApp(conn)
    const cookie = await loggedIn(tab2)
    assert.equal((await tab2.post('/logout', cookie)).status, 200)
    const before = await scanAll(conn.table)
    const res = await tab1.post('/set/late/1', cookie)
    assert.equal(res.status, 409)
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.deepEqual(tab1.ops(), ['GetItem'], 'nothing was written')
    assert.deepEqual(await scanAll(conn.table), before)
  })

  test('without onError, the 409 reaches app.onError and still sets no cookie', async () => {
    const conn = await freshTable('life-wd3')
    const tab1 = testApp(conn, { onError: undefined })
    const tab2 = testApp(conn)
    const cookie = await loggedIn(tab2)
    const held = tab1.hold(isSave)
    // Without onError, the middleware logs the 409 in one line.
    const { result: res, lines } = await withConsoleError(async () => {
      const write = tab1.post('/set/late/1', cookie)
      await held.reached
      assert.equal((await tab2.post('/logout', cookie)).status, 200)
      held.release()
      return write
    })
    assert.match(lines.map((l) => l.text).join('\n'), /^DynamoSessionError SESSION_GONE: /)
    assert.equal(res.status, 409)
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.deepEqual(live(await scanAll(conn.table)), [])
    assert.deepEqual(
      tab1.thrown.map((e) => (e as { code?: string }).code),
      ['SESSION_GONE'],
      'the error reached app.onError',
    )
    assert.deepEqual(codesOf(lines), ['SESSION_GONE'], 'and was logged in one line')
  })
})

describe('after the save', () => {
  test('session changes inside a streamText callback throw a TypeError; nothing changes', async () => {
    const conn = await freshTable('life-stream')
    const a = testApp(conn)
    const responded = latch()
    const thrown: unknown[] = []
    a.app.post('/stream', (c) =>
      streamText(c, async (stream) => {
        await responded.opened
        const session = c.get('session')
        for (const change of [
          () => session.set('late', 1),
          () => session.delete('user'),
          () => session.increment('n'),
          () => session.flash('notice', 'hi'),
          () => session.regenerate(),
          () => session.destroy(),
          () => session.touch(),
        ]) {
          try {
            change()
          } catch (e) {
            thrown.push(e)
          }
        }
        await stream.write('done')
      }),
    )
    const cookie = await loggedIn(a)
    const before = await rawItem(conn, cookie)
    const res = await a.post('/stream', cookie)
    assert.equal(res.status, 200)
    responded.open()
    assert.equal(await res.text(), 'done')
    assert.equal(thrown.length, 7, 'every change throws')
    for (const e of thrown) {
      assert.ok(e instanceof TypeError)
      assert.match(e.message, /already saved/)
    }
    assert.deepEqual(await rawItem(conn, cookie), before, 'the stored session is unchanged')
    assert.deepEqual(await a.whoami(cookie), { user: 'ada' })
  })
})
