// The demo app (examples/app.ts) through app.request against DynamoDB Local: sign-in validation,
// regenerate on sign-in, the cart, flash messages, sign-out and the expiry page.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createApp } from '../../examples/app.ts'
import { cartOf, DemoClient, errorsOf, noticeOf, userOf } from '../support/demo-client.ts'
import { freshTable, SECRET, scanAll } from '../support/dynamodb.ts'

/**
 * The sessions a table holds: items with data. An ended session may stay for a while as a
 * tombstone (an item with `end` and no data), which tells later requests it was ended.
 */
async function sessionsIn(table: string) {
  return (await scanAll(table)).filter((item) => !item.end)
}

const ORIGIN = 'http://localhost'

const decode = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')

const callsIn = (part: string | undefined) =>
  part === undefined
    ? undefined
    : [
        ...part.matchAll(
          /<td class="op">(\w+)[^<]*(?:<span[^>]*>[^<]*<\/span>)?<\/td><td class="units">([^<]*)<\/td><td class="ms">([^<]*)<\/td>/g,
        ),
      ].map(([, op, units, ms]) => ({ op, units, ms }))

/** The "Behind the scenes" panel of a demo page, read back. */
function panelOf(body: string) {
  const html = /<aside id="behind-the-scenes"[\s\S]*<\/aside>/.exec(body)?.[0]
  assert.ok(html, 'the page has the panel')
  const section = (name: string) =>
    new RegExp(`<div class="${name}">([\\s\\S]*?)</div>`).exec(html)?.[1]
  const json = /<pre class="json">([\s\S]*?)<\/pre>/.exec(html)?.[1]
  return {
    html,
    calls: callsIn(section('this-request')) ?? [],
    previous: callsIn(section('previous-request')),
    previousRequest: /request before it \(([^)]*)\)/.exec(html)?.[1],
    json: json === undefined ? undefined : decode(json),
    attribute: (name: string) =>
      new RegExp(`<tr data-attribute="${name}">.*?<td class="value">([^<]*)</td>`).exec(html)?.[1],
  }
}

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

  test('signing in again gives a new session id and ends the old session', async () => {
    const { conn, client } = await setup()
    const c = client()
    await signIn(c, 'alice')
    const before = c.jar.get('sid')
    const [oldItem] = await sessionsIn(conn.table)
    await signIn(c, 'bob')
    assert.notEqual(c.jar.get('sid'), before)
    const items = await sessionsIn(conn.table)
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

  test('signing out ends the session, clears the cookie, and the old cookie is worth nothing', async () => {
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
    assert.deepEqual(await sessionsIn(conn.table), [])
    // The old cookie, replayed, finds no session, and no session is started for it.
    const replay = client()
    replay.jar.set('sid', oldSid!)
    const replayed = await replay.get('/')
    assert.equal(userOf(replayed.body), undefined)
    assert.ok(!replayed.setCookies.some((h) => /^sid=[^;]/.test(h)), replayed.setCookies.join())
    assert.match(replayed.body, /action="\/login"/)
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

  test('the panel of a first visit shows no DynamoDB call and no stored item', async () => {
    const { client } = await setup()
    const page = await client().get('/')
    const panel = panelOf(page.body)
    assert.deepEqual(panel.calls, [])
    assert.match(panel.html, /No DynamoDB call/)
    assert.match(panel.html, /No item is stored/)
    assert.deepEqual(panel.previous, undefined)
  })

  test('the panel lists the calls of the request and of the redirect before it, with their capacity', async () => {
    const { client } = await setup()
    const c = client()
    const page = await signIn(c)
    const panel = panelOf(page.body)
    // The sign-in post wrote the new session; the page after it read it (and cleared the flash).
    assert.equal(panel.previousRequest, 'POST /login, answered 303')
    assert.ok(
      panel.previous?.some((call) => call.op === 'PutItem'),
      JSON.stringify(panel.previous),
    )
    assert.equal(panel.calls[0]?.op, 'GetItem')
    for (const call of [...panel.calls, ...(panel.previous ?? [])]) {
      assert.match(call.units, /^\d+(\.\d+)?$/, `${call.op} reports its capacity units`)
      assert.match(call.ms, /^\d+(\.\d)? ms$/)
    }
    // A read-only page view with nothing due: one GetItem and nothing else.
    const again = panelOf((await c.get('/session')).body)
    assert.deepEqual(
      again.calls.map((call) => call.op),
      ['GetItem'],
    )
  })

  test('the panel shows the stored item under the hash of the cookie id, with its timeline', async () => {
    const { conn, client } = await setup()
    const c = client()
    await signIn(c)
    const page = await c.post('/cart/add', { item: 'Apple' })
    const panel = panelOf(page.body)
    const id = c.jar.get('sid')!.split('.')[0]
    const digest = new Uint8Array(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(id)),
    )
    const hashed = Buffer.from(digest).toString('base64url')
    const [stored] = await sessionsIn(conn.table)
    assert.equal(stored.id.S, hashed)
    assert.equal(panel.attribute('id'), hashed)
    assert.match(panel.attribute('expires') ?? '', new RegExp(`^${stored.expires.N} \\(`))
    assert.match(panel.attribute('created') ?? '', new RegExp(`^${stored.created.N} \\(`))
    assert.equal(panel.attribute('data'), '2 entries')
    // The whole item as DynamoDB JSON, exactly as the table holds it.
    assert.deepEqual(JSON.parse(panel.json ?? 'null'), stored)
    assert.match(panel.html, /<svg[^>]*role="img"/)
    assert.match(panel.html, /expires in 1 h unless used again \(idle limit: 1 h after each use\)/)
    assert.match(panel.html, /absolute limit in 7 days/)
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
