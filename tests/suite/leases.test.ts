// With `locking`, every lease a request takes is given back on every path: items that turn out
// expired, unreadable, failing the schema or ended, a handler that throws, a save that fails, a
// read-only request, a touch, a login, a logout. After each, the item holds no lease and the next
// request takes it at its first attempt (a leaked lease would make it wait, then answer 503).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { StandardSchemaV1 } from '../../src/index.ts'
import { withConsoleError } from '../console.ts'
import { ddb, freshTable } from '../helpers.ts'
import {
  type Conn,
  cookieFrom,
  isLeaseTake,
  keyOf,
  loggedIn,
  makeApp,
  patchItem,
  rawItem,
  sleep,
} from '../lifecycle.ts'

const now = () => Math.floor(Date.now() / 1000)

/** Stored data with user 'mallory' fails this schema. */
const schema: StandardSchemaV1<unknown, Record<string, unknown>> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) =>
      (value as { user?: string }).user === 'mallory'
        ? { issues: [{ message: 'mallory is not allowed' }] }
        : { value: value as Record<string, unknown> },
  },
}

function lockedApp(conn: Conn, onError: boolean) {
  const a = makeApp(conn, {
    // A lease left behind would block the next request for a minute; it waits 300 ms at most.
    locking: { leaseMs: 60000, waitMs: 300 },
    schema,
    ...(onError ? {} : { onError: undefined }),
  })
  a.app.post('/huge', (c) => {
    c.get('session').set('blob', 'x'.repeat(410 * 1024))
    return c.text('too big to store')
  })
  return a
}

const takes = (a: ReturnType<typeof makeApp>, from = 0) =>
  a.gate.calls.slice(from).filter((c) => isLeaseTake(c.op, c.body)).length

/** The item holds no lease, and the next request with `cookie` takes it at once. */
async function assertReleased(a: ReturnType<typeof makeApp>, conn: Conn, cookie: string) {
  const item = await rawItem(conn, cookie)
  assert.equal(item?.lease, undefined, 'the item holds no lease')
  assert.equal(item?.leaseOwner, undefined)
  const from = a.gate.calls.length
  const res = await a.get('/read', cookie)
  assert.equal(res.status, 200, 'the next request is not locked out')
  assert.equal(takes(a, from), 1, 'the next request took the lease at its first attempt')
}

/** Paths that leave the session stored; `arrange` puts the item in a state, `act` sends a request. */
const paths: {
  name: string
  seed?: string
  arrange?: (conn: Conn, cookie: string) => Promise<void>
  act: (a: ReturnType<typeof makeApp>, cookie: string) => Response | Promise<Response>
  status: number
  /** The code the middleware logs, without onError (a read of the item logs it again). */
  logs?: string
}[] = [
  {
    name: 'an item past its expiry',
    arrange: (conn, cookie) =>
      patchItem(conn, cookie, 'SET expires = :e', { ':e': { N: String(now() - 1) } }),
    act: (a, cookie) => a.get('/read', cookie),
    status: 200,
  },
  {
    name: 'an item past absoluteMaxAge (its expiry still ahead)',
    arrange: (conn, cookie) =>
      patchItem(conn, cookie, 'SET created = :c', { ':c': { N: String(now() - 7 * 86400 - 1) } }),
    act: (a, cookie) => a.get('/read', cookie),
    status: 200,
  },
  {
    name: 'an unreadable item',
    arrange: (conn, cookie) => patchItem(conn, cookie, 'REMOVE created'),
    act: (a, cookie) => a.get('/read', cookie),
    status: 200,
    logs: 'INVALID_DATA',
  },
  {
    name: 'an item that fails the schema',
    seed: 'mallory',
    act: (a, cookie) => a.get('/read', cookie),
    status: 200,
    logs: 'INVALID_DATA',
  },
  {
    name: 'an item that fails the schema, and a handler that writes',
    seed: 'mallory',
    act: (a, cookie) => a.post('/set/theme/dark', cookie),
    status: 200,
    logs: 'INVALID_DATA',
  },
  {
    name: 'a handler that throws',
    act: (a, cookie) => a.post('/throw', cookie),
    status: 500,
  },
  {
    name: 'a save that fails (TOO_LARGE)',
    act: (a, cookie) => a.post('/huge', cookie),
    status: 500,
    logs: 'TOO_LARGE',
  },
  {
    name: 'a read-only request',
    act: (a, cookie) => a.get('/read', cookie),
    status: 200,
  },
  {
    name: 'a read-only request whose touch is due',
    arrange: (conn, cookie) =>
      patchItem(conn, cookie, 'SET expires = expires - :d', { ':d': { N: '20000' } }),
    act: (a, cookie) => a.get('/read', cookie),
    status: 200,
  },
  {
    name: 'a change',
    act: (a, cookie) => a.post('/set/theme/dark', cookie),
    status: 200,
  },
  {
    name: 'a request that reads a flash value (the clean-up write)',
    act: async (a, cookie) => {
      assert.equal((await a.post('/flash/notice/saved', cookie)).status, 200)
      return a.get('/take/notice', cookie)
    },
    status: 200,
  },
]

describe('every lease is given back', () => {
  for (const onError of [true, false]) {
    for (const p of paths) {
      test(`${p.name}${onError ? '' : ' (errors to app.onError)'}`, async () => {
        const conn = await freshTable('lease')
        const a = lockedApp(conn, onError)
        const cookie = cookieFrom(await a.post(`/set/user/${p.seed ?? 'ada'}`))
        assert.ok(cookie)
        await p.arrange?.(conn, cookie)
        const from = a.gate.calls.length
        const { lines } = await withConsoleError(async () => {
          const res = await p.act(a, cookie)
          assert.equal(res.status, p.status)
          assert.ok(takes(a, from) >= 1, 'the request went for the lease')
          await assertReleased(a, conn, cookie)
        })
        const logged = new Set(lines.map((l) => l.text.split(':')[0]))
        const expected = !onError && p.logs ? [`DynamoSessionError ${p.logs}`] : []
        assert.deepEqual([...logged], expected, 'without onError, the middleware logs the error')
      })
    }
  }

  test('a failed take on a session TTL deleted leaves no item behind (its give-back creates none)', async () => {
    const conn = await freshTable('lease-stray')
    const a = makeApp(conn, {
      locking: { leaseMs: 5000, waitMs: 1000 },
      retry: { attempts: 2, timeoutMs: 1000, budgetMs: 2000 },
    })
    const cookie = await loggedIn(a)
    await ddb('DeleteItem', { TableName: conn.table, Key: { id: { S: await keyOf(cookie) } } })
    a.gate.failEvery(isLeaseTake, 'unavailable')
    const res = await a.get('/read', cookie)
    assert.equal(res.status, 503)
    await sleep(200)
    assert.equal(await rawItem(conn, cookie), undefined, 'no item without an expiry is created')
  })

  test('an ended item (a tombstone): no lease is left, the next request is not held', async () => {
    const conn = await freshTable('lease-ended')
    const a = lockedApp(conn, true)
    const cookie = cookieFrom(await a.post('/set/user/ada'))
    assert.ok(cookie)
    assert.equal((await a.post('/logout', cookie)).status, 200)
    assert.equal((await rawItem(conn, cookie))?.end?.S, '1')
    // Reading and writing with the old cookie.
    assert.equal((await a.get('/read', cookie)).status, 200)
    assert.equal((await a.post('/set/theme/dark', cookie)).status, 409)
    await assertReleased(a, conn, cookie)
  })

  test('a login and a logout leave no lease on the new item nor on the tombstone', async () => {
    const conn = await freshTable('lease-login')
    const a = lockedApp(conn, true)
    const cookie = cookieFrom(await a.post('/set/user/ada'))
    assert.ok(cookie)
    const login = await a.post('/login', cookie)
    assert.equal(login.status, 200)
    const next = cookieFrom(login)
    assert.ok(next)
    assert.equal((await rawItem(conn, cookie))?.lease, undefined)
    await assertReleased(a, conn, next)
    assert.equal((await a.post('/logout', next)).status, 200)
    assert.equal((await rawItem(conn, next))?.lease, undefined)
  })
})
