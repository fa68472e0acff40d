// Binding a session to a user, only at sign-in: regenerate({ userId }) checks the id and binds
// the new session (uid, device, handle in the item; created carried over); session.userId reads
// it; session.handle is stable across writes and new on every sign-in; describe(c) says what the
// list shows of the browser (the User-Agent, cut to 256 characters, by default; at most 1 KB).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { keyOf } from '../support/cookies.ts'
import { freshTable, patchItem, rawItem, scanAll } from '../support/dynamodb.ts'
import { Browser, tools, userApp } from '../support/users.ts'

async function setup(options: Parameters<typeof userApp>[1] = {}) {
  const conn = await freshTable('bind')
  // Before the test app's own routes: its POST /regenerate answers { id }, this one { userId }.
  const a = userApp(conn, {
    ...options,
    routes: (app) => {
      app.post('/bind', async (c) => {
        const userId = (await c.req.json()).userId
        const session = c.get('session')
        session.regenerate({ userId })
        return c.json({ userId: session.userId ?? null })
      })
      app.post('/regenerate', (c) => {
        c.get('session').regenerate()
        return c.json({ userId: c.get('session').userId ?? null })
      })
      app.post('/logout-then', (c) => {
        const session = c.get('session')
        session.regenerate({ userId: 'ada' })
        session.destroy()
        return c.json({ userId: session.userId ?? null })
      })
    },
  })
  return { conn, a }
}

const bind = (b: Browser, userId: unknown) =>
  b.a.app.request('/bind', {
    method: 'POST',
    body: JSON.stringify({ userId }),
    headers: {
      'content-type': 'application/json',
      'user-agent': b.userAgent,
      ...(b.jar.header() ? { cookie: b.jar.header() as string } : {}),
    },
  })

describe('regenerate({ userId })', () => {
  test('binds the new session: userId at once and on later requests; uid, device and handle stored', async () => {
    const { conn, a } = await setup()
    const b = new Browser(a, 'Firefox 140')
    await b.send('/set/cart/apple', 'POST')
    const anonymous = await rawItem(conn, b.jar.header() as string)
    assert.equal(anonymous.uid, undefined, 'an anonymous session has no uid')
    assert.equal(anonymous.device, undefined, 'nor a device')
    const res = await bind(b, 'ada')
    b.jar.store(res)
    assert.deepEqual(await res.json(), { userId: 'ada' })
    const me = await b.me()
    assert.equal(me.userId, 'ada')
    assert.deepEqual(me.data, { cart: 'apple' }, 'the data moves with the session')
    const item = await rawItem(conn, b.jar.header() as string)
    assert.deepEqual(item.uid, { S: 'ada' })
    assert.deepEqual(item.device, { S: 'Firefox 140' })
    assert.deepEqual(item.h, { S: me.handle })
    assert.deepEqual(item.created, anonymous.created, 'created is carried over (absoluteMaxAge)')
  })

  for (const [what, userId, shown] of [
    ['an empty string', '', '0 characters'],
    ['257 characters', 'u'.repeat(257), '257 characters'],
    ['a number', 42, 'number'],
  ] as const) {
    test(`refuses ${what} with a TypeError at the call; nothing is stored`, async () => {
      const { conn, a } = await setup()
      let thrown: unknown
      a.app.post('/bad', (c) => {
        try {
          c.get('session').regenerate({ userId: userId as string })
        } catch (error) {
          thrown = error
        }
        return c.text('ok')
      })
      const res = await a.app.request('/bad', { method: 'POST' })
      assert.equal(res.status, 200)
      assert.ok(thrown instanceof TypeError)
      assert.equal(
        thrown.message,
        `regenerate({ userId }): userId must be a non-empty string of at most 256 characters, got ${shown}`,
      )
      assert.deepEqual(res.headers.getSetCookie(), [], 'nothing to store')
      assert.deepEqual(await scanAll(conn.table), [])
    })
  }

  test('takes 256 characters; a session id never changes owner: rebinding makes a new session', async () => {
    const { a } = await setup()
    const b = new Browser(a, 'Chrome')
    const long = 'u'.repeat(256)
    b.jar.store(await bind(b, long))
    const first = await b.me()
    assert.equal(first.userId, long)
    const cookie = b.jar.header()
    b.jar.store(await bind(b, 'grace'))
    assert.notEqual(b.jar.header(), cookie, 'a new id for the new owner')
    assert.equal(await b.user(), 'grace')
  })

  test('regenerate() without a userId keeps the user and the device; destroy() unbinds', async () => {
    const { conn, a } = await setup()
    const b = new Browser(a, 'Safari')
    await b.login('ada')
    const other = new Browser(a, 'another browser, same cookie')
    other.jar.store(
      new Response(null, { headers: { 'set-cookie': `${b.jar.header()}; Max-Age=3600` } }),
    )
    const res = await other.send('/regenerate', 'POST')
    assert.deepEqual(await res.json(), { userId: 'ada' })
    const item = await rawItem(conn, other.jar.header() as string)
    assert.deepEqual(item.uid, { S: 'ada' })
    assert.deepEqual(item.device, { S: 'Safari' }, 'the device is the one that signed in')
    const out = await other.send('/logout-then', 'POST')
    assert.deepEqual(await out.json(), { userId: null })
    assert.equal(await other.user(), null)
  })
})

describe('session.handle', () => {
  test('is stable across reads and writes, new on every sign-in, and not derived from the id', async () => {
    const { a } = await setup()
    const b = new Browser(a, 'Firefox')
    await b.send('/set/k/1', 'POST')
    const h1 = (await b.me()).handle
    await b.send('/set/k/2', 'POST')
    assert.equal((await b.me()).handle, h1)
    assert.match(h1, /^[\w-]{16}$/)
    const h2 = await b.login('ada')
    assert.notEqual(h2, h1)
    assert.equal((await b.me()).handle, h2)
    const id = decodeURIComponent((b.jar.header() as string).split('=')[1]).split('.')[0]
    assert.ok(!id.includes(h2), 'the handle is no part of the id')
  })

  test('a session stored without a handle (0.2) keeps one across requests', async () => {
    const { conn, a } = await setup()
    const b = new Browser(a, 'old')
    await b.send('/set/k/1', 'POST')
    const cookie = b.jar.header() as string
    await patchItem(conn, cookie, 'REMOVE h')
    const first = (await b.me()).handle
    assert.equal(first, (await keyOf(cookie)).slice(0, 16))
    assert.equal((await b.me()).handle, first)
    await b.send('/set/k/2', 'POST')
    assert.equal((await b.me()).handle, first)
  })
})

describe('the describe option', () => {
  test('by default keeps the User-Agent, cut to 256 characters; none without one', async () => {
    const { conn, a } = await setup()
    const long = new Browser(a, `Mozilla/5.0 ${'x'.repeat(400)}`)
    await long.login('ada')
    const item = await rawItem(conn, long.jar.header() as string)
    assert.equal(item.device.S, long.userAgent.slice(0, 256))
    const res = await a.app.request('/login/grace', { method: 'POST' })
    const bare = res.headers.getSetCookie()[0].split(';')[0]
    assert.equal((await rawItem(conn, bare)).device, undefined)
    assert.deepEqual(
      (await tools(conn).list('grace')).map((s) => s.device),
      [undefined],
    )
  })

  test('a describe function says what is kept, asked only when a user is bound', async () => {
    let asked = 0
    const { conn, a } = await setup({
      describe: (c) => {
        asked++
        return { browser: c.req.header('user-agent') ?? null, place: 'Lisbon' }
      },
    })
    const b = new Browser(a, 'Firefox')
    await b.send('/set/k/v', 'POST')
    assert.equal(asked, 0, 'not for an anonymous session')
    await b.login('ada')
    assert.equal(asked, 1)
    await b.send('/set/k/w', 'POST')
    assert.equal(asked, 1, 'not on later writes')
    assert.deepEqual(
      (await tools(conn).list('ada')).map((s) => s.device),
      [{ browser: 'Firefox', place: 'Lisbon' }],
    )
  })

  for (const [what, value] of [
    ['over 1 KB', { notes: 'x'.repeat(1100) }],
    ['not JSON', { when: new Date(0) }],
  ] as const) {
    test(`a describe that returns a value ${what} fails the sign-in with 500; nothing is stored`, async () => {
      const { conn, a } = await setup({ describe: () => value as never })
      const b = new Browser(a, 'Firefox')
      await b.send('/set/k/v', 'POST')
      const cookie = b.jar.header()
      const res = await b.send('/login/ada', 'POST')
      assert.equal(res.status, 500)
      assert.deepEqual(
        a.errors.map((e) => e.code),
        ['INVALID_DATA'],
      )
      assert.match(a.errors[0].message, /^describe\(c\) returned no device: /)
      assert.equal(b.jar.header(), cookie)
      assert.deepEqual((await b.me()).data, { k: 'v' }, 'the session is as it was')
      assert.deepEqual(await tools(conn).list('ada'), [])
    })
  }
})
