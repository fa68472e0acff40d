// contextKey: two middleware instances side by side in one app, each with its own cookie, table
// and context key, each writing only its own session.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { dynamoSession, type SessionEnv } from '../../src/index.ts'
import { freshTable, SECRET, scanAll } from '../support/dynamodb.ts'

describe('two middleware instances side by side (contextKey)', () => {
  test('two instances side by side, each with its own cookie, table and key', async () => {
    const users = await freshTable('ctx-user')
    const carts = await freshTable('ctx-cart')
    // Typed by SessionEnv's key parameter: each instance's session under its own name.
    const app = new Hono<
      SessionEnv<{ name: string }, 'user'> & SessionEnv<{ items: string[] }, 'cart'>
    >()
    app.use(
      dynamoSession<{ name: string }, 'user'>({
        ...users,
        secret: SECRET,
        contextKey: 'user',
        cookie: { name: 'uid' },
      }),
    )
    app.use(
      dynamoSession<{ items: string[] }, 'cart'>({
        ...carts,
        secret: SECRET,
        contextKey: 'cart',
        cookie: { name: 'cart' },
      }),
    )
    app.post('/', (c) => {
      c.get('user').set('name', 'ada')
      c.get('cart').set('items', ['apple'])
      return c.text('ok')
    })
    app.get('/', (c) =>
      c.json({
        name: c.get('user').get('name') ?? null,
        items: c.get('cart').get('items') ?? null,
        same: (c.get('user') as unknown) === c.get('cart'),
        session: c.get('session' as never) ?? null,
      }),
    )
    const res = await app.request('/', { method: 'POST' })
    assert.equal(res.status, 200)
    const cookies = res.headers.getSetCookie()
    assert.equal(cookies.length, 2)
    assert.ok(cookies.some((h) => h.startsWith('uid=')))
    assert.ok(cookies.some((h) => h.startsWith('cart=')))
    const cookie = cookies.map((h) => h.split(';')[0]).join('; ')
    const read = await app.request('/', { headers: { cookie } })
    assert.deepEqual(await read.json(), {
      name: 'ada',
      items: ['apple'],
      same: false,
      session: null,
    })
    assert.deepEqual(Object.keys((await scanAll(users.table))[0].data.M), ['name'])
    assert.deepEqual(Object.keys((await scanAll(carts.table))[0].data.M), ['items'])
  })
})
