// With `locking`, every lease a request takes is given back on every path: items that turn out
// expired, unreadable, failing the schema or ended, a handler that throws, a save that fails, a
// read-only request, a touch, a login, a logout. After each, the item holds no lease and the next
// request takes it at its first attempt (a leaked lease would make it wait, then answer 503).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { StandardSchemaV1 } from '../../src/index.ts'
import { loggedIn, type TestApp, testApp } from '../support/app.ts'
import { sleep } from '../support/clock.ts'
import { withConsoleError } from '../support/console.ts'
import { cookieFrom, cookieOf, keyOf } from '../support/cookies.ts'
import { type Conn, ddb, freshTable, patchItem, rawItem } from '../support/dynamodb.ts'
import { callOf, isLeaseTake, isRelease, spelled } from '../support/fetch.ts'
import { behindFaultProxy } from '../support/proxied.ts'

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
  const a = testApp(conn, {
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

const takes = (a: TestApp, from = 0) =>
  a.calls.slice(from).filter((c) => isLeaseTake(c.op, c.body)).length

/** The item holds no lease, and the next request with `cookie` takes it at once. */
async function assertReleased(a: TestApp, conn: Conn, cookie: string) {
  const item = await rawItem(conn, cookie)
  assert.equal(item?.lease, undefined, 'the item holds no lease')
  assert.equal(item?.leaseOwner, undefined)
  const from = a.calls.length
  const res = await a.get('/read', cookie)
  assert.equal(res.status, 200, 'the next request is not locked out')
  assert.equal(takes(a, from), 1, 'the next request took the lease at its first attempt')
}

/**
 * Paths that leave the session stored; `arrange` puts the item in a state, `act` sends a request;
 * `reported`: the store errors the request and the read after it report (to `onError`, or logged
 * without it), an unreadable item once for each.
 */
const paths: {
  name: string
  seed?: string
  arrange?: (conn: Conn, cookie: string) => Promise<void>
  act: (a: TestApp, cookie: string) => Response | Promise<Response>
  status: number
  reported?: string[]
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
    reported: ['INVALID_DATA', 'INVALID_DATA'],
  },
  {
    name: 'an item that fails the schema',
    seed: 'mallory',
    act: (a, cookie) => a.get('/read', cookie),
    status: 200,
    reported: ['INVALID_DATA', 'INVALID_DATA'],
  },
  {
    name: 'an item that fails the schema, and a handler that writes',
    seed: 'mallory',
    act: (a, cookie) => a.post('/set/theme/dark', cookie),
    status: 200,
    reported: ['INVALID_DATA', 'INVALID_DATA'],
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
    reported: ['TOO_LARGE'],
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
        const from = a.calls.length
        const { lines } = await withConsoleError(async () => {
          const res = await p.act(a, cookie)
          assert.equal(res.status, p.status)
          assert.ok(takes(a, from) >= 1, 'the request went for the lease')
          await assertReleased(a, conn, cookie)
        })
        if (onError) {
          assert.deepEqual(a.codes(), p.reported ?? [])
          assert.deepEqual(lines, [])
        } else {
          // Without onError, the middleware logs the error in one line, the same line at most
          // once a minute (so not again for the read after it).
          const logged = new Set(lines.map((l) => l.text.split(':')[0]))
          const reported = [...new Set(p.reported)].map((code) => `DynamoSessionError ${code}`)
          assert.deepEqual([...logged], reported, 'without onError, the middleware logs the error')
          assert.deepEqual(a.codes(), [])
        }
      })
    }
  }

  test('a failed take on a session TTL deleted leaves no item behind (its give-back creates none)', async () => {
    const conn = await freshTable('lease-stray')
    const a = testApp(conn, {
      locking: { leaseMs: 5000, waitMs: 1000 },
      retry: { attempts: 2, timeoutMs: 1000, budgetMs: 2000 },
    })
    const cookie = await loggedIn(a)
    await ddb('DeleteItem', { TableName: conn.table, Key: { id: { S: await keyOf(cookie) } } })
    a.failEvery(isLeaseTake, 'unavailable')
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

describe('a lease is given back with the request that took it', () => {
  const locking = { leaseMs: 60000, waitMs: 300 }

  test('a request that changes keys gives the lease back with its write', async () => {
    const conn = await freshTable('lease-write')
    const a = testApp(conn, { locking: { leaseMs: 20_000, waitMs: 300 } })
    const cookie = cookieOf(await a.post('/set/seed/1'))
    assert.equal((await a.post('/increment/n', cookie)).status, 200)
    const item = await rawItem(conn, cookie)
    assert.equal(item.lease, undefined, 'lease attribute left on the item')
    // The next request of the session is not locked out.
    assert.equal((await a.post('/increment/n', cookie)).status, 200)
    assert.equal((await a.whoami(cookie))?.n, 2)
  })

  test('a handler that throws gives the lease back', async () => {
    const conn = await freshTable('lock-throw')
    const a = testApp(conn, { locking })
    const cookie = cookieOf(await a.post('/set/seed/1'))
    const res = await a.post('/throw', cookie)
    assert.equal(res.status, 500)
    assert.equal(a.thrown.length, 1, 'the error reached app.onError')
    assert.equal((await rawItem(conn, cookie)).lease, undefined)
    // With the 60 s lease still held this would wait 300 ms and answer 503.
    assert.equal((await a.post('/rmw', cookie)).status, 200)
  })

  test('a save that fails gives the lease back, and the session is unchanged', async () => {
    const conn = await freshTable('lock-savefail')
    const options = { locking, retry: { attempts: 2, budgetMs: 1000 } }
    await behindFaultProxy(conn, options, async ({ a, proxy, cookie }) => {
      // Only the save fails: the lease is taken and given back by UpdateItems of other shapes.
      proxy.inject(
        { kind: 'status', status: 500 },
        {
          match: (op, body) =>
            op === 'UpdateItem' && spelled(body, 'UpdateExpression').startsWith('SET data.'),
        },
      )
      const res = await a.post('/rmw', cookie)
      assert.equal(res.status, 503)
      assert.deepEqual(a.codes(), ['UNAVAILABLE'])
      const item = await rawItem(conn, cookie)
      assert.equal(item.lease, undefined, 'the lease was given back')
      assert.equal(item.data.M.n, undefined, 'the failed change was not stored')
      proxy.clear()
      assert.equal((await a.post('/rmw', cookie)).status, 200)
      assert.equal((await rawItem(conn, cookie)).data.M.n.N, '1')
    })
  })

  test('a read-only request gives the lease back', async () => {
    const conn = await freshTable('lock-read')
    const a = testApp(conn, { locking })
    const cookie = cookieOf(await a.post('/set/seed/1'))
    assert.equal((await a.get('/read', cookie)).status, 200)
    assert.equal((await rawItem(conn, cookie)).lease, undefined)
  })

  test('a read-only request whose lease release hangs still answers 200 within about one budgetMs', async () => {
    const conn = await freshTable('lockrelease')
    const cookie = cookieOf(await testApp(conn).post('/set/seed/1'))
    const budgetMs = 800
    const a = testApp(conn, {
      locking: { leaseMs: 10_000, waitMs: 5_000 },
      retry: { attempts: 3, timeoutMs: 5_000, budgetMs },
      fetch: async (input, init) => {
        const { op, body } = await callOf(input, init)
        if (isRelease(op, body)) return new Promise(() => {})
        return fetch(input, init)
      },
    })
    const started = performance.now()
    const res = await a.get('/read', cookie)
    const ms = performance.now() - started
    assert.equal(res.status, 200, 'a lease not given back expires after leaseMs: no error')
    assert.ok(ms < budgetMs * 1.6, `answered after ${Math.round(ms)} ms (budget ${budgetMs})`)
    assert.deepEqual(a.errors, [])
  })
})
