// Changes past DynamoDB's expression limits (4 KB, 300 operators): 1,000 keys set, removed or
// incremented in one request, 500 flash values set and then read. Each is saved, and a change to
// another key that lands between this request's load and its save (held there) is kept.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type TestApp, testApp, whileHeld } from '../support/app.ts'
import { latch } from '../support/clock.ts'
import { cookieFrom } from '../support/cookies.ts'
import { type Conn, freshTable, rawItem } from '../support/dynamodb.ts'
import { isSave } from '../support/fetch.ts'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

function bigApp(conn: Conn) {
  const a = testApp(conn)
  a.app.post('/bulk/:what/:n', (c) => {
    const session = c.get('session')
    for (const i of range(Number(c.req.param('n')))) {
      const what = c.req.param('what')
      if (what === 'set') session.set(`k${i}`, i)
      else if (what === 'delete') session.delete(`k${i}`)
      else if (what === 'increment') session.increment(`k${i}`)
      else session.flash(`f${i}`, { i, text: `notice ${i}` })
    }
    return c.text('ok')
  })
  a.app.get('/flash/:n', (c) => {
    const session = c.get('session')
    const taken = range(Number(c.req.param('n'))).map((i) => session.takeFlash(`f${i}`))
    return c.json(taken.filter((v) => v !== undefined))
  })
  return a
}

const saves = (a: TestApp) => a.calls.filter((c) => isSave(c.op, c.body)).length

/** Runs `path` on `big` with its save held until `other` has set `key` on the same session. */
async function withConcurrentChange(
  big: ReturnType<typeof bigApp>,
  other: TestApp,
  cookie: string,
  path: string,
  key: string,
  method = 'POST',
  replayed = true,
) {
  const before = saves(big)
  const res = await whileHeld(
    big,
    isSave,
    () => (method === 'POST' ? big.post(path, cookie) : big.get(path, cookie)),
    async () => {
      assert.equal((await other.post(`/set/${key}/kept`, cookie)).status, 200)
    },
  )
  assert.equal(res.status, 200)
  // Written whole, the first write is refused (another request wrote meanwhile) and replayed
  // on a fresh read; written per key, it needs no replay.
  assert.equal(saves(big) - before, replayed ? 2 : 1)
  return res
}

describe('changes past the expression limits', () => {
  test("a flash value another request writes between this one's load and its whole-item save is kept for the next request", async () => {
    const conn = await freshTable('big-flash-kept')
    const a = bigApp(conn)
    const b = testApp(conn)
    b.app.post('/note', (c) => {
      c.get('session').flash('news', 'read me once')
      return c.text('ok')
    })
    a.app.get('/news', (c) => c.json({ news: c.get('session').takeFlash('news') ?? null }))
    const cookie = cookieFrom(await a.post('/set/seed/1'))
    assert.ok(cookie)
    const bulk = () => a.post('/bulk/set/1000', cookie)
    const res = await whileHeld(a, isSave, bulk, async () => {
      assert.equal((await b.post('/note', cookie)).status, 200)
    })
    assert.equal(res.status, 200)
    const next = await a.get('/news', cookie)
    assert.deepEqual(
      await next.json(),
      { news: 'read me once' },
      'the flash was not cleaned up unread',
    )
    assert.deepEqual(await (await a.get('/news', cookie)).json(), { news: null }, 'then it is gone')
  })

  test('1,000 keys set in one request, with a concurrent change to another key: all kept', async () => {
    const conn = await freshTable('big-set')
    const a = bigApp(conn)
    const b = testApp(conn)
    const cookie = cookieFrom(await a.post('/set/seed/1'))
    assert.ok(cookie)
    await withConcurrentChange(a, b, cookie, '/bulk/set/1000', 'other')
    const data = await a.whoami(cookie)
    assert.ok(data)
    assert.equal(Object.keys(data).length, 1002)
    assert.equal(data.other, 'kept')
    assert.equal(data.seed, '1')
    for (const i of range(1000)) assert.equal(data[`k${i}`], i)
    assert.deepEqual(a.errors, [])
  })

  test('1,000 keys removed in one request, with a concurrent change to another key: all kept', async () => {
    const conn = await freshTable('big-delete')
    const a = bigApp(conn)
    const b = testApp(conn)
    const cookie = cookieFrom(await a.post('/set/seed/1'))
    assert.ok(cookie)
    assert.equal((await a.post('/bulk/set/1000', cookie)).status, 200)
    await withConcurrentChange(a, b, cookie, '/bulk/delete/1000', 'other')
    assert.deepEqual(await a.whoami(cookie), { seed: '1', other: 'kept' })
  })

  test('1,000 increments in one request, with concurrent increments of the same keys: every count kept', async () => {
    const conn = await freshTable('big-inc')
    const a = bigApp(conn)
    const b = testApp(conn)
    const cookie = cookieFrom(await a.post('/set/seed/1'))
    assert.ok(cookie)
    assert.equal((await a.post('/bulk/set/1000', cookie)).status, 200)
    const big = () => a.post('/bulk/increment/1000', cookie)
    const res = await whileHeld(a, isSave, big, async () => {
      for (const k of ['k0', 'k500', 'k999']) {
        assert.equal((await b.post(`/increment/${k}`, cookie)).status, 200)
      }
    })
    assert.equal(res.status, 200)
    const data = await a.whoami(cookie)
    assert.ok(data)
    for (const i of range(1000)) {
      const extra = [0, 500, 999].includes(i) ? 1 : 0
      assert.equal(data[`k${i}`], i + 1 + extra, `k${i}`)
    }
  })

  for (const n of [500, 1000]) {
    test(`${n} flash values in one request, with a concurrent change: read once by the next request, then gone`, async () => {
      const conn = await freshTable('big-flash')
      const a = bigApp(conn)
      const b = testApp(conn)
      const cookie = cookieFrom(await a.post('/set/seed/1'))
      assert.ok(cookie)
      await withConcurrentChange(a, b, cookie, `/bulk/flash/${n}`, 'other')
      assert.equal(Object.keys((await rawItem(conn, cookie)).flash.M).length, n)
      // The read-only request that takes them; its clean-up write meets a concurrent change too
      // (500 removals fit one expression, 1,000 do not).
      const read = await withConcurrentChange(a, b, cookie, `/flash/${n}`, 'again', 'GET', n > 500)
      const taken = (await read.json()) as { i: number; text: string }[]
      assert.equal(taken.length, n)
      assert.deepEqual(taken[n - 1], { i: n - 1, text: `notice ${n - 1}` })
      const after = await a.get(`/flash/${n}`, cookie)
      assert.equal(after.status, 200)
      assert.deepEqual(await after.json(), [], 'flash values last one request')
      assert.deepEqual((await rawItem(conn, cookie)).flash.M, {})
      assert.deepEqual(await a.whoami(cookie), { seed: '1', other: 'kept', again: 'kept' })
      assert.deepEqual(a.errors, [])
    })
  }

  test('a whole-item write replayed after a conflict keeps a flash value another request wrote meanwhile', async () => {
    const a = testApp(await freshTable('r2flash'))
    const loaded = latch()
    const flashed = latch()
    // Past DynamoDB's expression limits: written whole, under the version read.
    a.app.post('/big', async (c) => {
      loaded.open()
      await flashed.opened
      for (let i = 0; i < 400; i++) c.get('session').set(`k${i}`, i)
      return c.text('ok')
    })
    const cookie = cookieFrom(await a.post('/set/user/ada')) as string

    const big = a.post('/big', cookie)
    await loaded.opened
    assert.equal((await a.post('/flash/msg/saved', cookie)).status, 200)
    flashed.open()
    assert.equal((await big).status, 200)

    const took = await a.get('/take/msg', cookie)
    assert.equal(took.status, 200)
    assert.deepEqual(await took.json(), { value: 'saved' })
    const read = await a.get('/take/msg', cookie)
    assert.deepEqual(await read.json(), { value: null })
    assert.deepEqual(a.errors, [])
  })
})
