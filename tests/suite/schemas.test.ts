// Schemas that transform: handlers see the schema's output (a Date, a URL, an array), what is
// stored stays the stored form, regenerate() writes that form, and one request changing the
// schema's output in place cannot reach another request.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import { type Data, testApp } from '../support/app.ts'
import { cookieOf } from '../support/cookies.ts'
import { type Conn, freshTable, rawItem } from '../support/dynamodb.ts'
import { opsApp } from '../support/ops.ts'

describe('schemas that transform the stored data', () => {
  /** Stores `data` as a session written before the schema, and returns its cookie. */
  async function stored(conn: Conn, data: Data) {
    const a = opsApp(conn)
    const ops = Object.entries(data).map(([key, value]) => ({ op: 'set', key, value }) as const)
    return cookieOf((await a.run(ops)).res)
  }

  test('z.coerce.date(): handlers see a Date, regenerate() writes the stored string, the next request loads', async () => {
    const conn = await freshTable('schema-date')
    const since = '2024-05-01T10:00:00.000Z'
    const cookie = await stored(conn, { since, name: 'ada' })
    const schema = z.object({ since: z.coerce.date(), name: z.string() })
    const { app, post, get } = testApp(conn, { schema })
    app.get('/', (c) => {
      const value = c.get('session').get('since')
      return c.json({ isDate: value instanceof Date, iso: (value as Date).toISOString() })
    })
    app.post('/relogin', (c) => {
      c.get('session').regenerate()
      c.get('session').set('name', 'ada lovelace')
      return c.text('ok')
    })
    app.post('/other', (c) => {
      c.get('session').set('name', 'ada byron')
      return c.text('ok')
    })
    assert.deepEqual(await (await get('/', cookie)).json(), { isDate: true, iso: since })
    const login = await post('/relogin', cookie)
    assert.equal(login.status, 200)
    const fresh = cookieOf(login)
    const item = await rawItem(conn, fresh)
    assert.deepEqual(item.data.M.since, { S: since }, 'the stored string, not a Date')
    assert.deepEqual(item.data.M.name, { S: 'ada lovelace' })
    const after = await get('/', fresh)
    assert.deepEqual(await after.json(), { isDate: true, iso: since }, 'still signed in')
    // A change to another key writes only that key.
    assert.equal((await post('/other', fresh)).status, 200)
    assert.deepEqual((await rawItem(conn, fresh)).data.M.since, { S: since })
  })

  test('a transform to a class instance (URL) reaches the handler whole, and the stored string stays', async () => {
    const conn = await freshTable('schema-url')
    const cookie = await stored(conn, { home: 'https://example.com/a' })
    const schema = z.object({ home: z.string().transform((s) => new URL(s)) })
    const { app, post } = testApp(conn, { schema })
    app.post('/', (c) => {
      const home = c.get('session').get('home') as unknown
      c.get('session').set('seen', true)
      return c.json({ url: home instanceof URL, host: (home as URL).host })
    })
    const res = await post('/', cookie)
    assert.deepEqual(await res.json(), { url: true, host: 'example.com' })
    const item = await rawItem(conn, cookie)
    assert.deepEqual(
      item.data.M.home,
      { S: 'https://example.com/a' },
      'only the changed key is written',
    )
    assert.deepEqual(item.data.M.seen, { BOOL: true })
  })

  test('a schema that hands every request the same default object: one request changing it in place does not reach another', async () => {
    const conn = await freshTable('schema-shared')
    // One object for every request, as a schema's default can be.
    const SHARED = { tags: ['default'] }
    const schema = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: (value: unknown) => ({ value: { ...(value as object), prefs: SHARED } }),
      },
    }
    const { app, post, get } = testApp(conn, { schema })
    app.post('/tag', (c) => {
      const prefs = c.get('session').get('prefs') as { tags: string[] }
      prefs.tags.push('mine')
      c.get('session').set('prefs', prefs)
      return c.json(prefs.tags)
    })
    app.get('/', (c) => c.json(c.get('session').get('prefs') ?? null))
    const alice = await stored(conn, { name: 'alice' })
    const bob = await stored(conn, { name: 'bob' })
    const res = await post('/tag', alice)
    assert.deepEqual(await res.json(), ['default', 'mine'])
    assert.deepEqual(SHARED, { tags: ['default'] }, "the schema's object is untouched")
    const other = await get('/', bob)
    assert.deepEqual(
      await other.json(),
      { tags: ['default'] },
      "another user's session is unaffected",
    )
  })

  test('a string-to-array transform: regenerate() keeps the string, so the next request still passes', async () => {
    const conn = await freshTable('schema-array')
    const cookie = await stored(conn, { roles: 'admin,editor' })
    const schema = z.object({ roles: z.string().transform((s) => s.split(',')) })
    const { app, post, get, errors } = testApp(conn, { schema })
    app.get('/', (c) =>
      c.json({ isNew: c.get('session').isNew, roles: c.get('session').get('roles') }),
    )
    assert.deepEqual(await (await get('/', cookie)).json(), {
      isNew: false,
      roles: ['admin', 'editor'],
    })
    const fresh = cookieOf(await post('/regenerate', cookie))
    assert.deepEqual((await rawItem(conn, fresh)).data.M.roles, { S: 'admin,editor' })
    assert.deepEqual(await (await get('/', fresh)).json(), {
      isNew: false,
      roles: ['admin', 'editor'],
    })
    assert.deepEqual(errors, [], 'no schema failure after the login')
  })

  test('increment() of a stored "5" that the schema coerces to 5 is a TypeError at the call', async () => {
    const conn = await freshTable('schema-coerce')
    const cookie = await stored(conn, { n: '5' })
    const { app, post } = testApp(conn, { schema: z.object({ n: z.coerce.number() }) })
    app.post('/', (c) => {
      const session = c.get('session')
      const seen = session.get('n')
      try {
        session.increment('n')
        return c.json({ seen, error: null })
      } catch (e) {
        return c.json({ seen, error: `${(e as Error).name}: ${(e as Error).message}` })
      }
    })
    const res = await post('/', cookie)
    assert.equal(res.status, 200)
    const body = (await res.json()) as { seen: number; error: string }
    assert.equal(body.seen, 5)
    assert.match(body.error, /^TypeError: .*"n"/)
    assert.match(body.error, /not a number/)
    assert.deepEqual((await rawItem(conn, cookie)).data.M.n, { S: '5' }, 'nothing was written')
  })
})
