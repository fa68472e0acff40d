// Every row of DESIGN.md's cost table: the exact DynamoDB calls and the Set-Cookie header.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { DynamoSessionOptions } from '../../src/index.ts'
import { testApp } from '../support/app.ts'
import { virtualClock } from '../support/clock.ts'
import { cookieOf, setCookies } from '../support/cookies.ts'
import { ddb, freshTable, scanAll } from '../support/dynamodb.ts'
import { spelled } from '../support/fetch.ts'

async function setup(options: Partial<DynamoSessionOptions<Record<string, unknown>>> = {}) {
  const conn = await freshTable('cost')
  const a = testApp(conn, options)
  // Sets and deletes (null) the keys of the JSON body.
  a.app.post('/change', async (c) => {
    const session = c.get('session')
    for (const [k, v] of Object.entries(await c.req.json<Record<string, string | null>>())) {
      if (v === null) session.delete(k)
      else session.set(k, v)
    }
    return c.json({ id: session.id })
  })
  const post = (path: string, body: unknown, cookie?: string) =>
    a.app.request(path, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    })
  /** A stored session with the given data; the recorded calls are reset afterwards. */
  const seed = async (data: Record<string, string>) => {
    const res = await post('/change', data)
    assert.equal(res.status, 200)
    const cookie = cookieOf(res)
    a.reset()
    return cookie
  }
  return { conn, counter: a, post, get: a.get, seed }
}

function assertCookieFlags(header: string) {
  assert.match(header, /; HttpOnly/)
  assert.match(header, /; Secure/)
  assert.match(header, /; SameSite=Lax/)
  assert.match(header, /; Path=\//)
}

function assertCleared(header: string) {
  assert.match(header, /^sid=;/)
  assert.match(header, /Max-Age=0/)
  const expires = /Expires=([^;]+)/.exec(header)?.[1]
  assert.ok(expires, 'a cleared cookie carries Expires')
  assert.ok(new Date(expires).getTime() < Date.now(), 'the expiry is in the past')
  assertCookieFlags(header)
}

describe('cost per request', () => {
  test('no cookie and nothing written: no DynamoDB call, no Set-Cookie', async () => {
    const { get, counter } = await setup()
    const res = await get('/read')
    assert.equal(res.status, 200)
    assert.deepEqual(counter.ops(), [])
    assert.deepEqual(setCookies(res), [])
  })

  test('no cookie and data set: one conditional PutItem and a new cookie', async () => {
    const { post, counter, conn } = await setup()
    const res = await post('/change', { a: '1' })
    assert.equal(res.status, 200)
    assert.deepEqual(counter.ops(), ['PutItem'])
    assert.equal(spelled(counter.calls[0].body, 'ConditionExpression'), 'attribute_not_exists(id)')
    const [header] = setCookies(res)
    assertCookieFlags(header)
    assert.match(header, /^sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Max-Age=86400/)
    const { id } = await res.json()
    assert.ok(header.startsWith(`sid=${id}.`))
    assert.equal((await scanAll(conn.table)).length, 1)
  })

  test('valid cookie, handler only reads, touch not due: one GetItem and no Set-Cookie', async () => {
    const { get, counter, seed } = await setup()
    const cookie = await seed({ a: '1' })
    const res = await get('/read', cookie)
    assert.deepEqual((await res.json()).data, { a: '1' })
    assert.deepEqual(counter.ops(), ['GetItem'])
    assert.equal(counter.calls[0].body.ConsistentRead, true)
    assert.deepEqual(setCookies(res), [])
  })

  test('valid cookie, handler only reads, touch due: the expiry alone is written and the cookie refreshed', async () => {
    const { get, counter, seed, conn } = await setup({ maxAge: 1000, touchAfter: 100 })
    const cookie = await seed({ a: '1' })
    // Age the session by 200 s: its expiry is now 800 s away, so a touch is due.
    const [item] = await scanAll(conn.table)
    const aged = Number(item.expires.N) - 200
    await ddb('UpdateItem', {
      TableName: conn.table,
      Key: { id: item.id },
      UpdateExpression: 'SET expires = :e',
      ExpressionAttributeValues: { ':e': { N: String(aged) } },
    })
    const res = await get('/read', cookie)
    assert.equal(res.status, 200)
    assert.deepEqual(counter.ops(), ['GetItem', 'UpdateItem'])
    const update = counter.calls[1].body
    // The expiry, and the write's token (every write is exactly-once); no data key.
    assert.match(spelled(update, 'UpdateExpression'), /^SET expires = :, w\.[\w-]{8} = : ADD v :$/)
    assert.ok(!JSON.stringify(update).includes('"a"'), 'no data key is written')
    const [header] = setCookies(res)
    assert.match(header, /Max-Age=1000;/)
    assert.ok(header.startsWith(cookie))
    const [after] = await scanAll(conn.table)
    assert.ok(Number(after.expires.N) >= aged + 200)
  })

  test('valid cookie, handler changes keys: one UpdateItem with only the changed keys', async () => {
    const { post, counter, seed, conn } = await setup()
    // Both requests in one second: the expiry does not move, so the cookie is not sent again
    // (it would be, rightly, when a second boundary fell between them).
    const clock = virtualClock()
    let res: Response
    try {
      clock.freeze()
      const cookie = await seed({ a: '1', b: '2', c: '3' })
      res = await post('/change', { a: 'one', b: null }, cookie)
    } finally {
      clock.restore()
    }
    assert.equal(res.status, 200)
    assert.deepEqual(counter.ops(), ['GetItem', 'UpdateItem'])
    const update = counter.calls[1].body
    const names = Object.values(update.ExpressionAttributeNames)
    assert.ok(names.includes('a') && names.includes('b'))
    assert.ok(!names.includes('c'), 'an unchanged key is not written')
    assert.match(spelled(update, 'UpdateExpression'), /REMOVE data\.b/)
    assert.match(spelled(update, 'UpdateExpression'), /ADD v :$/, 'every write bumps the version')
    assert.match(spelled(update, 'ConditionExpression'), /attribute_exists\(data\)/)
    assert.match(
      spelled(update, 'ConditionExpression'),
      /expires > :/,
      'only a live session is written',
    )
    assert.deepEqual(setCookies(res), [], 'the expiry did not move far enough for a new cookie')
    const [item] = await scanAll(conn.table)
    assert.deepEqual(item.data.M, { a: { S: 'one' }, c: { S: '3' } })
  })

  test('setting a key to the value it already has writes nothing', async () => {
    const { post, counter, seed } = await setup()
    const cookie = await seed({ a: '1' })
    await post('/change', { a: '1' }, cookie)
    assert.deepEqual(counter.ops(), ['GetItem'])
  })

  test('cookie naming a missing session: one GetItem, a fresh id, and the cookie left alone', async () => {
    const { get, post, counter, seed, conn } = await setup()
    const cookie = await seed({ a: '1' })
    await ddb('DeleteItem', {
      TableName: conn.table,
      Key: { id: (await scanAll(conn.table))[0].id },
    })
    const res = await get('/read', cookie)
    const body = await res.json()
    assert.deepEqual(body.data, {})
    assert.notEqual(body.id, cookie.split('=')[1].split('.')[0], 'the client id is never adopted')
    assert.deepEqual(counter.ops(), ['GetItem'])
    // A slow request sent with an old cookie must not log the user out: never cleared.
    assert.deepEqual(setCookies(res), [])

    counter.reset()
    const written = await post('/change', { b: '2' }, cookie)
    assert.deepEqual(counter.ops(), ['GetItem', 'PutItem'])
    const fresh = cookieOf(written)
    assert.notEqual(fresh, cookie)
    assert.equal(setCookies(written).length, 1)
  })

  test('destroy(): one GetItem, one PutItem of a short-lived tombstone, and the cookie cleared', async () => {
    const { post, get, counter, seed, conn } = await setup()
    const cookie = await seed({ a: '1' })
    const res = await post('/logout', {}, cookie)
    assert.equal(res.status, 200)
    assert.deepEqual(counter.ops(), ['GetItem', 'PutItem'])
    assert.match(spelled(counter.calls[1].body, 'ConditionExpression'), /attribute_exists\(data\)/)
    assertCleared(setCookies(res)[0])
    const items = await scanAll(conn.table)
    assert.equal(items.length, 1)
    assert.equal(items[0].data, undefined, 'no data is left behind')
    assert.deepEqual(items[0].end, { S: '1' })
    const expires = Number(items[0].expires.N) - Date.now() / 1000
    assert.ok(expires > 3000 && expires <= 3601, `the tombstone lasts an hour, not ${expires} s`)
    const again = await get('/read', cookie)
    assert.deepEqual((await again.json()).data, {}, 'the old id no longer loads anything')
  })

  test('regenerate(): one GetItem, a new item and the old deleted, data kept under a new id', async () => {
    const { post, get, counter, seed, conn } = await setup()
    const cookie = await seed({ a: '1' })
    const oldKey = (await scanAll(conn.table))[0].id.S
    const res = await post('/regenerate', {}, cookie)
    assert.deepEqual(counter.ops(), ['GetItem', 'PutItem', 'PutItem'])
    assert.equal(spelled(counter.calls[1].body, 'ConditionExpression'), 'attribute_not_exists(id)')
    assert.match(
      spelled(counter.calls[2].body, 'ConditionExpression'),
      /v = :/,
      'conditioned on the version read',
    )
    const fresh = cookieOf(res)
    assert.notEqual(fresh, cookie)
    const items = await scanAll(conn.table)
    assert.equal(items.length, 2)
    const live = items.filter((i) => i.data)
    assert.equal(live.length, 1)
    assert.notEqual(live[0].id.S, oldKey)
    assert.deepEqual(
      items.find((i) => i.id.S === oldKey)?.end,
      { S: 'm' },
      'the old item is a tombstone, moved by a sign-in',
    )
    assert.deepEqual((await (await get('/read', fresh)).json()).data, { a: '1' })
    const old = await get('/read', cookie)
    assert.deepEqual((await old.json()).data, {}, 'the old id no longer loads anything')
  })
})
