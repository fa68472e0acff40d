// The cookie carries only an id; forged, tampered and malformed cookies never reach DynamoDB
// (with a secret), and a client-chosen id is never adopted.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { testApp } from '../support/app.ts'
import { cookieOf, idOf, setCookies } from '../support/cookies.ts'
import { freshTable, SECRET, scanAll } from '../support/dynamodb.ts'

/** An app signing with `secret` (none: unsigned ids); GET /me answers the id and the user. */
async function setup(secret: string | string[] | null = SECRET, options = {}) {
  const conn = await freshTable('cookie')
  const a = testApp(conn, { secret: secret ?? undefined, ...options })
  a.app.get('/me', (c) => c.json({ id: c.get('session').id, user: c.get('session').get('user') }))
  const login = () => a.post('/set/user/ada')
  const me = (cookie?: string) => a.get('/me', cookie)
  return { a, conn, counter: a, login, me }
}

const wellFormed = 'A'.repeat(43)
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

describe('cookie and id', () => {
  test('the stored hash key is not the cookie id, and no attribute contains the id', async () => {
    const { login, conn } = await setup()
    const res = await login()
    const id = idOf(cookieOf(res))
    const items = await scanAll(conn.table)
    assert.equal(items.length, 1)
    assert.notEqual(items[0].id.S, id)
    assert.match(items[0].id.S, /^[A-Za-z0-9_-]{43}$/)
    assert.ok(!JSON.stringify(items).includes(id), 'the id appears nowhere in the item')
    assert.ok(!JSON.stringify(items).includes(cookieOf(res).split('=')[1]))
  })

  test('ids are 256 random bits: 43 base64url characters, all different', async () => {
    const { me } = await setup()
    const ids = new Set<string>()
    for (let i = 0; i < 20; i++) ids.add((await (await me()).json()).id)
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
      const { login, me, counter } = await setup()
      const good = cookieOf(await login()).split('=')[1]
      counter.reset()
      const value = make(good)
      const res = await me(`sid=${value}`)
      assert.equal(res.status, 200)
      const body = await res.json()
      assert.equal(body.user, undefined)
      assert.deepEqual(counter.ops(), [])
      assert.ok(!value.startsWith(body.id), 'the client id is not adopted')
      assert.deepEqual(setCookies(res), [])
    })
  }

  test('a verified cookie, once remembered, does not let a tampered copy through', async () => {
    const { login, me, counter } = await setup()
    const good = cookieOf(await login())
    for (let i = 0; i < 2; i++) {
      assert.equal((await (await me(good)).json()).user, 'ada')
    }
    counter.reset()
    const tampered = `${good.slice(0, -10)}${good.at(-10) === 'A' ? 'B' : 'A'}${good.slice(-9)}`
    const res = await me(tampered)
    assert.equal((await res.json()).user, undefined)
    assert.deepEqual(counter.ops(), [])
  })

  test('a cookie signed with another secret is ignored without a read', async () => {
    const other = await setup('another-secret-that-is-long-enough-012345')
    const value = cookieOf(await other.login())
    const { me, counter } = await setup()
    const res = await me(value)
    assert.equal((await res.json()).user, undefined)
    assert.deepEqual(counter.ops(), [])
  })

  test('secret rotation: cookies signed with an older secret still verify; new ones use the first', async () => {
    const old = 'the-old-secret-that-is-long-enough-0123456'
    const before = await setup(old)
    const cookie = cookieOf(await before.login())
    const after = testApp(before.conn, { secret: [SECRET, old], touchAfter: 0 })
    const res = await after.get('/read', cookie)
    assert.equal((await res.json()).data.user, 'ada')
  })

  test('without a secret, a malformed id costs no read; a well-formed unknown one costs one', async () => {
    const { me, counter } = await setup(null)
    await me('sid=short')
    await me(`sid=${wellFormed}x`)
    assert.deepEqual(counter.ops(), [])
    const res = await me(`sid=${wellFormed}`)
    assert.deepEqual(counter.ops(), ['GetItem'])
    assert.notEqual((await res.json()).id, wellFormed)
  })

  test('the first sid wins when a Cookie header repeats it, and other cookies are ignored', async () => {
    const { login, me } = await setup()
    const good = cookieOf(await login())
    const res = await me(`other=1; ${good}; sid=${wellFormed}`)
    assert.equal((await res.json()).user, 'ada')
  })

  test('cookie options shape the Set-Cookie header', async () => {
    const { login } = await setup(null, {
      cookie: { name: '__Host-s', sameSite: 'Strict', partitioned: true },
      maxAge: 60,
    })
    const [header] = setCookies(await login())
    assert.match(
      header,
      /^__Host-s=[A-Za-z0-9_-]{43}; Max-Age=60; Path=\/; Secure; HttpOnly; SameSite=Strict; Partitioned$/,
    )
  })
})
