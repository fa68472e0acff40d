// Adversarial review: interleavings, retries and expression edge cases that the session rules
// must survive, each against DynamoDB Local.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { storedKey } from '../../src/cookie.ts'
import { type DynamoSessionError, dynamoSession, type SessionEnv } from '../../src/index.ts'
import { cookieOf, ddb, freshTable, SECRET } from '../helpers.ts'

type Data = Record<string, unknown>
type Conn = Awaited<ReturnType<typeof freshTable>>

/** An app over `conn` whose fetch can be replaced per test. */
function makeApp(conn: Conn, extra: Record<string, unknown> = {}, fetcher?: typeof fetch) {
  const errors: DynamoSessionError[] = []
  const app = new Hono<SessionEnv<Data>>()
  app.use(
    dynamoSession<Data>({
      ...conn,
      secret: SECRET,
      ...(fetcher ? { fetch: fetcher } : {}),
      onError: (e) => {
        errors.push(e)
      },
      ...extra,
    }),
  )
  app.post('/set/:n', (c) => {
    const n = Number(c.req.param('n'))
    for (let i = 0; i < n; i++) c.get('session').set(`k${i}`, i)
    return c.text('ok')
  })
  app.post('/increment', (c) => {
    c.get('session').increment('n')
    return c.text('ok')
  })
  app.post('/mixed', (c) => {
    const session = c.get('session')
    session.set('s', 's')
    for (let i = 0; i < 12; i++) session.increment(`i${i}`)
    return c.text('ok')
  })
  app.get('/read', (c) => c.json(c.get('session').data))
  const req = (method: string, path: string, cookie?: string) =>
    app.request(path, { method, headers: cookie ? { cookie } : {} })
  return { app, req, errors }
}

/** The stored item of a cookie `sid=<id>.<sig>`. */
async function itemOf(table: string, cookie: string) {
  const id = cookie.split('=')[1].slice(0, 43)
  const out = await ddb('GetItem', {
    TableName: table,
    Key: { id: { S: await storedKey(id) } },
    ConsistentRead: true,
  })
  return out.Item
}

describe('review', () => {
  test('locking: a request that changes keys gives the lease back with its write', async () => {
    const conn = await freshTable('rv-lease')
    const a = makeApp(conn, { locking: { leaseMs: 20_000, waitMs: 300 } })
    const cookie = cookieOf(await a.req('POST', '/set/1'))
    assert.equal((await a.req('POST', '/increment', cookie)).status, 200)
    const item = await itemOf(conn.table, cookie)
    assert.equal(item.lease, undefined, 'lease attribute left on the item')
    // The next request of the session is not locked out.
    assert.equal((await a.req('POST', '/increment', cookie)).status, 200)
    assert.equal(((await (await a.req('GET', '/read', cookie)).json()) as Data).n, 2)
  })

  test('locking: a set and 12 increments in one request are saved (value aliases stay distinct)', async () => {
    const conn = await freshTable('rv-alias')
    const a = makeApp(conn, { locking: { leaseMs: 20_000, waitMs: 300 } })
    const cookie = cookieOf(await a.req('POST', '/set/1'))
    const res = await a.req('POST', '/mixed', cookie)
    assert.equal(res.status, 200, a.errors.map((e) => e.message).join('\n'))
    const data = (await (await a.req('GET', '/read', cookie)).json()) as Data
    assert.equal(data.i11, 1)
    assert.equal(data.s, 's')
  })
})
