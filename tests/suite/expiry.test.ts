// Expiry: idle timeout, absolute timeout, and items past their expiry that TTL has not deleted yet.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type TestAppOptions, testApp } from '../support/app.ts'
import { sleep } from '../support/clock.ts'
import { cookieOf, setCookies } from '../support/cookies.ts'
import { ddb, freshTable, scanAll } from '../support/dynamodb.ts'

async function setup(options: TestAppOptions = {}) {
  const conn = await freshTable('expiry')
  const a = testApp(conn, options)
  const login = async () => {
    const cookie = cookieOf(await a.post('/set/user/ada'))
    a.reset()
    return cookie
  }
  a.app.get('/user', (c) =>
    c.json({ user: c.get('session').get('user') ?? null, isNew: c.get('session').isNew }),
  )
  const read = (cookie: string) => a.get('/user', cookie)
  const setItem = async (expression: string, values: Record<string, number>) => {
    const [item] = await scanAll(conn.table)
    await ddb('UpdateItem', {
      TableName: conn.table,
      Key: { id: item.id },
      UpdateExpression: expression,
      ExpressionAttributeValues: Object.fromEntries(
        Object.entries(values).map(([k, v]) => [k, { N: String(v) }]),
      ),
    })
  }
  return { a, conn, counter: a, login, read, setItem }
}

const now = () => Math.floor(Date.now() / 1000)

describe('expiry', () => {
  test('an item whose expires is past but is still in the table is not loaded', async () => {
    const { login, read, setItem, counter } = await setup()
    const cookie = await login()
    await setItem('SET expires = :e', { ':e': now() - 1 })
    const res = await read(cookie)
    assert.deepEqual(await res.json(), { user: null, isNew: true })
    assert.deepEqual(counter.ops(), ['GetItem'], 'nothing is written: the old item is left for TTL')
    assert.deepEqual(setCookies(res), [], 'the cookie is left alone')
  })

  test('a write never resurrects an expired item', async () => {
    const { a, login, setItem, conn } = await setup()
    const cookie = await login()
    await setItem('SET expires = :e', { ':e': now() - 1 })
    const res = await a.post('/set/user/ada', cookie)
    assert.notEqual(cookieOf(res), cookie, 'a fresh id')
    // TTL may or may not have deleted the expired item by now: count only the live ones.
    const items = await scanAll(conn.table)
    assert.equal(items.filter((i) => Number(i.expires.N) > now()).length, 1)
  })

  test('idle timeout: a session unused for maxAge seconds is gone', async () => {
    const { login, read } = await setup({ maxAge: 1, touchAfter: 0 })
    const cookie = await login()
    assert.equal((await (await read(cookie)).json()).user, 'ada')
    await sleep(2100)
    assert.deepEqual(await (await read(cookie)).json(), { user: null, isNew: true })
  })

  test('absolute timeout: a session older than absoluteMaxAge is gone, however active', async () => {
    const { login, read, setItem } = await setup({ maxAge: 3600, absoluteMaxAge: 7200 })
    const cookie = await login()
    await setItem('SET created = :c', { ':c': now() - 7201 })
    assert.deepEqual(await (await read(cookie)).json(), { user: null, isNew: true })
  })

  test('the expiry never moves past created + absoluteMaxAge', async () => {
    const { login, read, setItem, conn } = await setup({
      maxAge: 3600,
      absoluteMaxAge: 7200,
      touchAfter: 0,
    })
    const cookie = await login()
    const created = now() - 7000
    await setItem('SET created = :c, expires = :e', { ':c': created, ':e': now() + 100 })
    const res = await read(cookie)
    assert.equal((await res.json()).user, 'ada')
    const [item] = await scanAll(conn.table)
    assert.equal(Number(item.expires.N), created + 7200)
    const maxAge = Number(/Max-Age=(\d+)/.exec(setCookies(res)[0])?.[1])
    assert.ok(maxAge <= 201 && maxAge >= 198, `cookie Max-Age ${maxAge} follows the cap`)
  })

  test('touch() moves the expiry forward even when touchAfter has not passed', async () => {
    const conn = await freshTable('touch')
    const counter = testApp(conn, { maxAge: 1000, touchAfter: 500, secret: undefined })
    const cookie = cookieOf(await counter.post('/set/user/ada'))
    const [item] = await scanAll(conn.table)
    await ddb('UpdateItem', {
      TableName: conn.table,
      Key: { id: item.id },
      UpdateExpression: 'SET expires = expires - :d',
      ExpressionAttributeValues: { ':d': { N: '10' } },
    })
    counter.reset()
    const res = await counter.post('/touch', cookie)
    assert.deepEqual(counter.ops(), ['GetItem', 'UpdateItem'])
    assert.match(setCookies(res)[0], /Max-Age=1000/)
  })
})
