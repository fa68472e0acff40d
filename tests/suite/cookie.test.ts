// The cookie carries only an id; forged, tampered and malformed cookies never reach DynamoDB
// (with a secret), and a client-chosen id is never adopted.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { dynamoSession, type SessionEnv } from '../../src/index.ts'
import { cookieOf, countingFetch, freshTable, SECRET, scanAll, setCookies } from '../helpers.ts'

async function setup(secret: string | string[] | null = SECRET) {
  const conn = await freshTable('cookie')
  const counter = countingFetch()
  const app = new Hono<SessionEnv<{ user: string }>>()
  app.use(dynamoSession({ ...conn, fetch: counter.fetch, ...(secret ? { secret } : {}) }))
  app.get('/read', (c) => c.json({ id: c.get('session').id, user: c.get('session').get('user') }))
  app.get('/login', (c) => {
    c.get('session').set('user', 'ada')
    return c.json({ id: c.get('session').id })
  })
  return { app, conn, counter }
}

const wellFormed = 'A'.repeat(43)
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

describe('cookie and id', () => {
  test('the stored hash key is not the cookie id, and no attribute contains the id', async () => {
    const { app, conn } = await setup()
    const res = await app.request('/login')
    const { id } = await res.json()
    const items = await scanAll(conn.table)
    assert.equal(items.length, 1)
    assert.notEqual(items[0].id.S, id)
    assert.match(items[0].id.S, /^[A-Za-z0-9_-]{43}$/)
    assert.ok(!JSON.stringify(items).includes(id), 'the id appears nowhere in the item')
    assert.ok(!JSON.stringify(items).includes(cookieOf(res).split('=')[1]))
  })

  test('ids are 256 random bits: 43 base64url characters, all different', async () => {
    const { app } = await setup()
    const ids = new Set<string>()
    for (let i = 0; i < 20; i++) ids.add((await (await app.request('/read')).json()).id)
    assert.equal(ids.size, 20)
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{43}$/)
  })

  const hostile: [string, (good: string) => string][] = [
    ['a forged unsigned id', () => wellFormed],
    ['a forged id with a made-up signature', () => `${wellFormed}.${'B'.repeat(43)}`],
    [
      'a tampered signature',
      (good) => `${good.slice(0, -10)}${good.at(-10) === 'A' ? 'B' : 'A'}${good.slice(-9)}`,
    ],
    // The last base64url character carries 2 padding bits: flipping one decodes to the same MAC.
    [
      'a non-canonical encoding of the right signature',
      (good) => `${good.slice(0, -1)}${B64[B64.indexOf(good.at(-1) as string) ^ 1]}`,
    ],
    ['a tampered id', (good) => `${good[0] === 'A' ? 'B' : 'A'}${good.slice(1)}`],
    ['a too-long cookie', (good) => `${good}${'x'.repeat(5000)}`],
    ['a non-base64url cookie', () => `${'%'.repeat(43)}.${'!'.repeat(43)}`],
    ['an empty cookie', () => ''],
    ['latin-1 bytes', () => '\u00fc\u00ef\u00e9.\u00ff'],
  ]
  for (const [name, make] of hostile) {
    test(`with a secret, ${name} costs no DynamoDB read and gets a fresh id`, async () => {
      const { app, counter } = await setup()
      const good = cookieOf(await app.request('/login')).split('=')[1]
      counter.reset()
      const value = make(good)
      const res = await app.request('/read', { headers: { cookie: `sid=${value}` } })
      assert.equal(res.status, 200)
      const body = await res.json()
      assert.equal(body.user, undefined)
      assert.deepEqual(counter.ops(), [])
      assert.ok(!value.startsWith(body.id), 'the client id is not adopted')
      assert.deepEqual(setCookies(res), [])
    })
  }

  test('a verified cookie, once remembered, does not let a tampered copy through', async () => {
    const { app, counter } = await setup()
    const good = cookieOf(await app.request('/login'))
    for (let i = 0; i < 2; i++) {
      assert.equal(
        (await (await app.request('/read', { headers: { cookie: good } })).json()).user,
        'ada',
      )
    }
    counter.reset()
    const tampered = `${good.slice(0, -10)}${good.at(-10) === 'A' ? 'B' : 'A'}${good.slice(-9)}`
    const res = await app.request('/read', { headers: { cookie: tampered } })
    assert.equal((await res.json()).user, undefined)
    assert.deepEqual(counter.ops(), [])
  })

  test('a cookie signed with another secret is ignored without a read', async () => {
    const other = await setup('another-secret-that-is-long-enough-012345')
    const value = cookieOf(await other.app.request('/login'))
    const { app, counter } = await setup()
    const res = await app.request('/read', { headers: { cookie: value } })
    assert.equal((await res.json()).user, undefined)
    assert.deepEqual(counter.ops(), [])
  })

  test('secret rotation: cookies signed with an older secret still verify; new ones use the first', async () => {
    const old = 'the-old-secret-that-is-long-enough-0123456'
    const conn = await freshTable('rotate')
    const before = new Hono<SessionEnv<{ user: string }>>()
    before.use(dynamoSession({ ...conn, secret: old }))
    before.get('/login', (c) => {
      c.get('session').set('user', 'ada')
      return c.text('ok')
    })
    const cookie = cookieOf(await before.request('/login'))
    const after = new Hono<SessionEnv<{ user: string }>>()
    after.use(dynamoSession({ ...conn, secret: [SECRET, old], touchAfter: 0 }))
    after.get('/read', (c) => c.json({ user: c.get('session').get('user') }))
    const res = await after.request('/read', { headers: { cookie } })
    assert.equal((await res.json()).user, 'ada')
  })

  test('without a secret, a malformed id costs no read; a well-formed unknown one costs one', async () => {
    const { app, counter } = await setup(null)
    await app.request('/read', { headers: { cookie: 'sid=short' } })
    await app.request('/read', { headers: { cookie: `sid=${wellFormed}x` } })
    assert.deepEqual(counter.ops(), [])
    const res = await app.request('/read', { headers: { cookie: `sid=${wellFormed}` } })
    assert.deepEqual(counter.ops(), ['GetItem'])
    assert.notEqual((await res.json()).id, wellFormed)
  })

  test('the first sid wins when a Cookie header repeats it, and other cookies are ignored', async () => {
    const { app } = await setup()
    const good = cookieOf(await app.request('/login'))
    const res = await app.request('/read', {
      headers: { cookie: `other=1; ${good}; sid=${wellFormed}` },
    })
    assert.equal((await res.json()).user, 'ada')
  })

  test('cookie options shape the Set-Cookie header', async () => {
    const conn = await freshTable('cookieopts')
    const app = new Hono<SessionEnv<{ user: string }>>()
    app.use(
      dynamoSession({
        ...conn,
        cookie: { name: '__Host-s', sameSite: 'Strict', partitioned: true },
        maxAge: 60,
      }),
    )
    app.get('/login', (c) => {
      c.get('session').set('user', 'ada')
      return c.text('ok')
    })
    const [header] = setCookies(await app.request('/login'))
    assert.match(
      header,
      /^__Host-s=[A-Za-z0-9_-]{43}; Max-Age=60; Path=\/; Secure; HttpOnly; SameSite=Strict; Partitioned$/,
    )
  })
})
