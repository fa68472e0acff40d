// Concurrent requests on one session, from one app or from two app instances with their own
// clients: changes to different keys are all kept, increments all count, and a destroyed
// session stays destroyed.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { type DynamoSessionError, dynamoSession, type SessionEnv } from '../../src/index.ts'
import { cookieOf, freshTable, SECRET, scanAll } from '../helpers.ts'

type Data = Record<string, unknown>
type Conn = Awaited<ReturnType<typeof freshTable>>

/** One app instance: its own middleware, so its own DynamoDB client and signing keys. */
function instance(conn: Conn, hold?: () => Promise<void>) {
  const errors: DynamoSessionError[] = []
  const app = new Hono<SessionEnv<Data>>()
  app.use(
    dynamoSession<Data>({
      ...conn,
      secret: SECRET,
      onError: (e) => {
        errors.push(e)
      },
    }),
  )
  app.post('/set/:key', async (c) => {
    if (hold) await hold()
    c.get('session').set(c.req.param('key'), c.req.param('key'))
    return c.text('ok')
  })
  app.post('/delete/:key', (c) => {
    c.get('session').delete(c.req.param('key'))
    return c.text('ok')
  })
  app.post('/increment', (c) => {
    c.get('session').increment('n')
    return c.text('ok')
  })
  app.post('/destroy', (c) => {
    c.get('session').destroy()
    return c.text('bye')
  })
  app.get('/read', (c) => c.json({ isNew: c.get('session').isNew, data: c.get('session').data }))
  const post = (path: string, cookie?: string) =>
    app.request(path, { method: 'POST', headers: cookie ? { cookie } : {} })
  return { app, post, errors }
}

/** Items holding session data (a tombstone of an ended session holds none). */
const liveItems = async (table: string) => (await scanAll(table)).filter((i) => i.data).length

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('concurrency', () => {
  test('50 concurrent requests each setting a different key: all 50 keys are kept', async () => {
    const conn = await freshTable('conc-keys')
    const a = instance(conn)
    const cookie = cookieOf(await a.post('/set/seed'))
    const responses = await Promise.all(range(50).map((i) => a.post(`/set/k${i}`, cookie)))
    assert.deepEqual(
      responses.map((r) => r.status),
      range(50).map(() => 200),
    )
    const read = await a.app.request('/read', { headers: { cookie } })
    const { data } = (await read.json()) as { data: Data }
    assert.equal(Object.keys(data).length, 51)
    for (const i of range(50)) assert.equal(data[`k${i}`], `k${i}`)
    assert.equal((await scanAll(conn.table)).length, 1, 'one session, one item')
  })

  test('concurrent deletes and sets of different keys do not undo each other', async () => {
    const conn = await freshTable('conc-del')
    const a = instance(conn)
    const cookie = cookieOf(await a.post('/set/seed'))
    await Promise.all(range(20).map((i) => a.post(`/set/old${i}`, cookie)))
    const responses = await Promise.all([
      ...range(20).map((i) => a.post(`/delete/old${i}`, cookie)),
      ...range(20).map((i) => a.post(`/set/new${i}`, cookie)),
    ])
    assert.ok(responses.every((r) => r.status === 200))
    const { data } = (await (await a.app.request('/read', { headers: { cookie } })).json()) as {
      data: Data
    }
    assert.deepEqual(Object.keys(data).sort(), ['seed', ...range(20).map((i) => `new${i}`)].sort())
  })

  test('two app instances, 200 concurrent increments split between them: n is exactly 200', async () => {
    const conn = await freshTable('conc-inc')
    const one = instance(conn)
    const two = instance(conn)
    const cookie = cookieOf(await one.post('/set/seed'))
    const responses = await Promise.all(
      range(200).map((i) => (i % 2 ? one : two).post('/increment', cookie)),
    )
    assert.deepEqual(
      responses.map((r) => r.status),
      range(200).map(() => 200),
    )
    const read = await two.app.request('/read', { headers: { cookie } })
    assert.equal(((await read.json()) as { data: Data }).data.n, 200)
  })

  test('a write racing a destroy in another tab gets 409 and the session stays ended', async () => {
    const conn = await freshTable('conc-destroy')
    let letGo: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      letGo = resolve
    })
    let entered: () => void = () => {}
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve
    })
    const tabA = instance(conn, async () => {
      entered()
      await held
    })
    const tabB = instance(conn)
    const cookie = cookieOf(await tabB.post('/set/seed'))
    // Tab A has loaded the session and is inside its handler when tab B logs out.
    const write = tabA.post('/set/late', cookie)
    await inHandler
    const logout = await tabB.post('/destroy', cookie)
    assert.equal(logout.status, 200)
    assert.equal(await liveItems(conn.table), 0)
    letGo()
    const res = await write
    assert.equal(res.status, 409)
    assert.deepEqual(
      tabA.errors.map((e) => e.code),
      ['SESSION_GONE'],
    )
    // Only destroy's own response clears the cookie; the late request touches it not at all.
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.equal(await liveItems(conn.table), 0, 'the write did not resurrect the session')
    const read = await tabB.app.request('/read', { headers: { cookie } })
    assert.deepEqual(await read.json(), { isNew: true, data: {} })
  })
})
