// The demo app (examples/app.ts) through app.request against DynamoDB Local: sign-in validation,
// regenerate on sign-in, the cart, flash messages, sign-out and the expiry page.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createApp } from '../../examples/app.ts'
import { cartOf, DemoClient, errorsOf, noticeOf, userOf } from '../demo-client.ts'
import { freshTable, SECRET, scanAll } from '../helpers.ts'

const ORIGIN = 'http://localhost'

async function setup() {
  const conn = await freshTable('demo')
  const app = createApp({ ...conn, secret: SECRET, maxAge: 3600 })
  const client = () => new DemoClient(ORIGIN, async (url, init) => app.request(url, init))
  return { conn, app, client }
}

async function signIn(client: DemoClient, username = 'alice') {
  const page = await client.post('/login', { username, password: 'correct horse' })
  assert.equal(page.status, 200)
  assert.equal(userOf(page.body), username)
  return page
}

describe('demo app', () => {
  test('a first visit shows the sign-in form and stores nothing', async () => {
    const { conn, client } = await setup()
    const page = await client().get('/')
    assert.equal(page.status, 200)
    assert.match(page.body, /<form method="post" action="\/login">/)
    assert.deepEqual(page.setCookies, [])
    assert.deepEqual(await scanAll(conn.table), [])
  })

  test('bad sign-in input re-renders the form with every message and stores nothing', async () => {
    const { conn, client } = await setup()
    const c = client()
    const page = await c.post('/login', { username: 'a"><b>x', password: 'short' })
    assert.equal(page.status, 422)
    assert.deepEqual(errorsOf(page.body), [
      'Username: 3 to 20 letters, digits, - or _',
      'Password: at least 8 characters',
    ])
    // The typed username comes back in the field, escaped.
    assert.match(page.body, /value="a&quot;&gt;&lt;b&gt;x"/)
    assert.doesNotMatch(page.body, /<b>x/)
    assert.deepEqual(page.setCookies, [])
    assert.deepEqual(await scanAll(conn.table), [])
  })

  test('signing in stores the user, flashes "Signed in" once, and signs the cookie', async () => {
    const { conn, client } = await setup()
    const c = client()
    const page = await signIn(c)
    assert.equal(noticeOf(page.body), 'Signed in')
    assert.deepEqual(cartOf(page.body), [])
    const sid = c.jar.get('sid')
    assert.ok(sid?.includes('.'), 'the cookie carries a signature')
    const items = await scanAll(conn.table)
    assert.equal(items.length, 1)
    assert.deepEqual(items[0].data.M.user, { S: 'alice' })
    const again = await c.get('/')
    assert.equal(userOf(again.body), 'alice')
    assert.equal(noticeOf(again.body), undefined)
  })

  test('signing in again gives a new session id and deletes the old item', async () => {
    const { conn, client } = await setup()
    const c = client()
    await signIn(c, 'alice')
    const before = c.jar.get('sid')
    const [oldItem] = await scanAll(conn.table)
    await signIn(c, 'bob')
    assert.notEqual(c.jar.get('sid'), before)
    const items = await scanAll(conn.table)
    assert.equal(items.length, 1)
    assert.notEqual(items[0].id.S, oldItem.id.S)
    assert.deepEqual(items[0].data.M.user, { S: 'bob' })
  })

  test('the cart adds, removes and counts items, with a notice for each change', async () => {
    const { client } = await setup()
    const c = client()
    await signIn(c)
    let page = await c.post('/cart/add', { item: 'Apple' })
    assert.equal(noticeOf(page.body), 'Item added')
    page = await c.post('/cart/add', { item: 'Cherry' })
    assert.deepEqual(cartOf(page.body), ['Apple', 'Cherry'])
    page = await c.post('/cart/remove', { index: '0' })
    assert.equal(noticeOf(page.body), 'Item removed')
    assert.deepEqual(cartOf(page.body), ['Cherry'])
    page = await c.get('/')
    assert.deepEqual(cartOf(page.body), ['Cherry'])
    assert.equal(noticeOf(page.body), undefined)
  })

  test('an item outside the catalogue is refused and the cart is unchanged', async () => {
    const { client } = await setup()
    const c = client()
    await signIn(c)
    await c.post('/cart/add', { item: 'Banana' })
    const page = await c.post('/cart/add', { item: 'Caviar' })
    assert.equal(page.status, 400)
    assert.deepEqual(cartOf((await c.get('/')).body), ['Banana'])
  })

  test('the cart is for signed-in visitors only', async () => {
    const { conn, client } = await setup()
    const page = await client().post('/cart/add', { item: 'Apple' })
    assert.equal(page.path, '/')
    assert.match(page.body, /action="\/login"/)
    assert.deepEqual(await scanAll(conn.table), [])
  })

  test('signing out deletes the session, clears the cookie, and the old cookie is worth nothing', async () => {
    const { conn, client } = await setup()
    const c = client()
    await signIn(c)
    await c.post('/cart/add', { item: 'Apple' })
    const oldSid = c.jar.get('sid')
    const page = await c.post('/logout', {})
    assert.ok(
      page.setCookies.some((h) => /^sid=;/.test(h) && /Max-Age=0/.test(h)),
      'the cookie is cleared',
    )
    assert.equal(c.jar.size, 0)
    assert.equal(noticeOf(page.body), 'Signed out')
    assert.equal(cartOf(page.body), undefined)
    assert.deepEqual(await scanAll(conn.table), [])
    // The old cookie, replayed, finds no session and is cleared.
    const replay = client()
    replay.jar.set('sid', oldSid!)
    const replayed = await replay.get('/')
    assert.equal(userOf(replayed.body), undefined)
    assert.ok(replayed.setCookies.some((h) => /^sid=;/.test(h)))
  })

  test('the session page shows when the session expires', async () => {
    const { client } = await setup()
    const c = client()
    const none = await c.get('/session')
    assert.match(none.body, /id="no-session"/)
    await signIn(c)
    const page = await c.get('/session')
    const datetime = /<time datetime="([^"]+)"/.exec(page.body)?.[1]
    assert.ok(datetime, 'the page names the expiry')
    const left = new Date(datetime).getTime() - Date.now()
    assert.ok(left > 3500_000 && left <= 3600_000, `expires in ${left} ms, maxAge is 3600 s`)
    assert.match(page.body, /It holds: user\./)
  })

  test('a form posted from another site is refused', async () => {
    const { conn, app } = await setup()
    const res = await app.request(`${ORIGIN}/login`, {
      method: 'POST',
      body: 'username=mallory&password=12345678',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
      },
    })
    assert.equal(res.status, 403)
    assert.deepEqual(await scanAll(conn.table), [])
  })
})
