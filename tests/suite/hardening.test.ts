// Hostile keys and numbers, duplicate cookies, side-by-side instances and transforming schemas:
// session data and flash are maps of own keys, increments stay in DynamoDB's number range, every
// session cookie in the header is a candidate, and what is written is only what handlers changed.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { z } from 'zod'
import { CookieSigner, newId, storedKey } from '../../src/cookie.ts'
import {
  type DynamoSessionError,
  type DynamoSessionOptions,
  dynamoSession,
  type SessionEnv,
} from '../../src/index.ts'
import { withConsoleError } from '../console.ts'
import { cookieOf, countingFetch, ddb, freshTable, SECRET, scanAll } from '../helpers.ts'

type Data = Record<string, unknown>
type Conn = Awaited<ReturnType<typeof freshTable>>

/** One step a handler runs on the session; `sparse` sets an array with a hole. */
type Op =
  | { op: 'set' | 'flash'; key: string; value: unknown }
  | { op: 'get' | 'has' | 'delete' | 'takeFlash' | 'sparse' | 'regenerate'; key?: string }
  | { op: 'increment'; key: string; by?: number }

/** What one step gave: its result (with its type, so a function is told from a value) or its error. */
type Outcome = { type: string; value?: unknown } | { error: string; message: string }

/** An app whose handler runs the steps it is sent and answers what each gave. */
function opsApp(conn: Conn, options: Partial<DynamoSessionOptions<Data>> = {}) {
  const counter = countingFetch()
  const errors: DynamoSessionError[] = []
  const app = new Hono<SessionEnv<Data>>()
  app.use(
    dynamoSession<Data>({
      ...conn,
      secret: SECRET,
      fetch: counter.fetch,
      onError: (e) => {
        errors.push(e)
      },
      ...options,
    }),
  )
  app.post('/ops', async (c) => {
    const session = c.get('session')
    // c.req.json() is JSON.parse: a "__proto__" member is an own key, as a client can send it.
    const ops = await c.req.json<Op[]>()
    const outcomes: Outcome[] = []
    for (const o of ops) {
      try {
        const key = o.key as string
        let value: unknown
        if (o.op === 'set') session.set(key, o.value)
        else if (o.op === 'flash') session.flash(key, o.value as never)
        else if (o.op === 'get') value = session.get(key)
        else if (o.op === 'has') value = session.has(key)
        else if (o.op === 'delete') session.delete(key)
        else if (o.op === 'takeFlash') value = session.takeFlash(key)
        else if (o.op === 'increment') session.increment(key, o.by)
        else if (o.op === 'regenerate') session.regenerate()
        // biome-ignore lint/suspicious/noSparseArray: the hole is the point
        else if (o.op === 'sparse') session.set(key, [1, , 3])
        outcomes.push({ type: typeof value, value })
      } catch (e) {
        outcomes.push({ error: (e as Error).name, message: (e as Error).message })
      }
    }
    return c.json({ outcomes, data: session.data, isNew: session.isNew })
  })
  const run = async (ops: Op[], cookie?: string) => {
    const res = await app.request('/ops', {
      method: 'POST',
      body: JSON.stringify(ops),
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    })
    const text = await res.text()
    const body = res.status === 200 ? JSON.parse(text) : undefined
    return {
      res,
      status: res.status,
      text,
      outcomes: body?.outcomes as Outcome[],
      data: body?.data as Data,
      isNew: body?.isNew as boolean,
    }
  }
  return { app, run, counter, errors }
}

/** JSON with every object's keys sorted: DynamoDB maps keep no order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  )

/** The raw stored item of the session a cookie names. */
async function rawItem(conn: Conn, cookie: string) {
  const id = decodeURIComponent(cookie.split('=')[1]).split('.')[0]
  const out = await ddb('GetItem', {
    TableName: conn.table,
    Key: { id: { S: await storedKey(id) } },
    ConsistentRead: true,
  })
  return out.Item
}

const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']

describe('own keys', () => {
  test('a new session has no inherited keys, and takes prototype names as ordinary keys', async () => {
    const conn = await freshTable('own-new')
    const a = opsApp(conn)
    const reads = PROTO_NAMES.flatMap((key) => [
      { op: 'has', key } as const,
      { op: 'get', key } as const,
    ])
    const empty = await a.run(reads)
    assert.equal(empty.status, 200)
    assert.deepEqual(
      empty.outcomes,
      PROTO_NAMES.flatMap(() => [{ type: 'boolean', value: false }, { type: 'undefined' }]),
    )
    assert.deepEqual(a.counter.ops(), [], 'reads of a new session cost nothing')

    const written = await a.run([
      { op: 'set', key: 'constructor', value: 'c' },
      { op: 'increment', key: '__proto__' },
      { op: 'increment', key: 'toString', by: 2 },
      { op: 'set', key: 'hasOwnProperty', value: { nested: true } },
      { op: 'has', key: 'constructor' },
      { op: 'get', key: 'toString' },
    ])
    assert.equal(written.status, 200)
    assert.ok(
      written.outcomes.slice(0, 4).every((o) => !('error' in o)),
      JSON.stringify(written.outcomes),
    )
    assert.deepEqual(written.outcomes.slice(4), [
      { type: 'boolean', value: true },
      { type: 'number', value: 2 },
    ])
    assert.deepEqual(a.counter.ops(), ['PutItem'])
    const cookie = cookieOf(written.res)
    const item = await rawItem(conn, cookie)
    assert.equal(
      canonical(item.data.M),
      canonical({
        constructor: { S: 'c' },
        ['__proto__']: { N: '1' },
        toString: { N: '2' },
        hasOwnProperty: { M: { nested: { BOOL: true } } },
      }),
    )
  })

  test('a stored session: prototype names are set, read, deleted and incremented', async () => {
    const conn = await freshTable('own-stored')
    const a = opsApp(conn)
    const cookie = cookieOf((await a.run([{ op: 'set', key: 'seed', value: 1 }])).res)

    // Not there yet: no inherited value, a delete is no change, an increment starts from 0.
    a.counter.reset()
    const first = await a.run(
      [
        ...PROTO_NAMES.map((key) => ({ op: 'get', key }) as const),
        ...PROTO_NAMES.map((key) => ({ op: 'has', key }) as const),
        { op: 'delete', key: 'toString' },
      ],
      cookie,
    )
    assert.equal(first.status, 200)
    assert.ok(first.outcomes.slice(0, 5).every((o) => 'type' in o && o.type === 'undefined'))
    assert.ok(first.outcomes.slice(5, 10).every((o) => 'value' in o && o.value === false))
    assert.deepEqual(a.counter.ops(), ['GetItem'], 'deleting an absent key writes nothing')

    a.counter.reset()
    const second = await a.run(
      [
        { op: 'increment', key: 'constructor' },
        { op: 'increment', key: '__proto__', by: 5 },
        { op: 'set', key: 'toString', value: 'ts' },
        { op: 'flash', key: '__proto__', value: 'flashed' },
      ],
      cookie,
    )
    assert.equal(second.status, 200, second.text)
    assert.deepEqual(
      second.outcomes.map((o) => ('error' in o ? o.message : 'ok')),
      ['ok', 'ok', 'ok', 'ok'],
    )
    assert.deepEqual(a.counter.ops(), ['GetItem', 'UpdateItem'])
    assert.equal(
      canonical((await rawItem(conn, cookie)).data.M),
      canonical({
        seed: { N: '1' },
        constructor: { N: '1' },
        ['__proto__']: { N: '5' },
        toString: { S: 'ts' },
      }),
    )

    const third = await a.run(
      [
        { op: 'get', key: 'constructor' },
        { op: 'get', key: '__proto__' },
        { op: 'takeFlash', key: '__proto__' },
        { op: 'takeFlash', key: 'toString' },
        { op: 'increment', key: 'constructor', by: 10 },
        { op: 'delete', key: 'toString' },
        { op: 'delete', key: '__proto__' },
      ],
      cookie,
    )
    assert.equal(third.status, 200, third.text)
    assert.deepEqual(third.outcomes.slice(0, 4), [
      { type: 'number', value: 1 },
      { type: 'number', value: 5 },
      { type: 'string', value: 'flashed' },
      { type: 'undefined' },
    ])
    assert.equal(
      canonical((await rawItem(conn, cookie)).data.M),
      canonical({ seed: { N: '1' }, constructor: { N: '11' } }),
    )
  })

  test('nested values with prototype-named keys round-trip exactly through DynamoDB', async () => {
    const conn = await freshTable('own-nested')
    const a = opsApp(conn)
    const text =
      '{"__proto__":{"admin":true,"__proto__":[1,{"__proto__":null}]},"constructor":{"prototype":{"polluted":1}},"toString":"x","list":[{"__proto__":{"deep":"y"}}]}'
    const value = JSON.parse(text)
    assert.ok(Object.hasOwn(value, '__proto__'), 'JSON.parse makes __proto__ an own key')
    const created = await a.run([
      { op: 'set', key: 'profile', value },
      { op: 'flash', key: 'notice', value },
    ])
    assert.equal(created.status, 200, created.text)
    const cookie = cookieOf(created.res)
    const stored = (await rawItem(conn, cookie)).data.M.profile.M
    assert.ok(Object.hasOwn(stored, '__proto__'), 'stored under the key "__proto__"')
    assert.deepEqual(Object.keys(stored).sort(), ['__proto__', 'constructor', 'list', 'toString'])

    const read = await a.run(
      [
        { op: 'get', key: 'profile' },
        { op: 'takeFlash', key: 'notice' },
      ],
      cookie,
    )
    assert.equal(read.status, 200)
    const [profile, notice] = read.outcomes as { value: unknown }[]
    assert.equal(canonical(profile.value), canonical(value))
    assert.equal(canonical(notice.value), canonical(value))
    // Changing another key leaves the nested value as it was (not rewritten, not reshaped).
    const again = await a.run([{ op: 'set', key: 'other', value: 1 }], cookie)
    assert.equal(again.status, 200)
    assert.equal(canonical(read.data.profile), canonical(value))
    assert.equal(({} as Record<string, unknown>).admin, undefined, 'Object.prototype is untouched')
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })
})

describe('numbers', () => {
  test('a number stored as binary (magnitude 1e126 and up) reads back, and increment() writes the sum whole', async () => {
    // DynamoDB cannot add to a binary attribute: the sum this request computed is written.
    const conn = await freshTable('num-binary')
    const a = opsApp(conn)
    const cookie = cookieOf(
      (
        await a.run([
          { op: 'set', key: 'big', value: 1e130 },
          { op: 'set', key: 'edge', value: -1e126 },
        ])
      ).res,
    )
    const item = await rawItem(conn, cookie)
    assert.ok(item.data.M.big.B, 'stored as binary: DynamoDB numbers stop below 1e126')
    const r = await a.run(
      [
        { op: 'get', key: 'big' },
        { op: 'increment', key: 'big', by: 1e128 },
        { op: 'increment', key: 'edge', by: -1e126 },
      ],
      cookie,
    )
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(r.outcomes[0], { type: 'number', value: 1e130 })
    assert.deepEqual(r.data, { big: 1e130 + 1e128, edge: -2e126 })
    assert.deepEqual((await a.run([{ op: 'get', key: 'big' }], cookie)).data, r.data)
    assert.deepEqual(a.errors, [])
  })

  test('an increment back into range from a binary-stored number gives the right sum, stored as a number', async () => {
    const conn = await freshTable('num-binary-back')
    const a = opsApp(conn)
    const cookie = cookieOf(
      (
        await a.run([
          { op: 'set', key: 'big', value: 1e126 },
          { op: 'set', key: 'tiny', value: 1e-200 },
        ])
      ).res,
    )
    assert.ok((await rawItem(conn, cookie)).data.M.big.B)
    const r = await a.run(
      [
        { op: 'increment', key: 'big', by: -5e125 },
        { op: 'increment', key: 'tiny', by: 1 },
      ],
      cookie,
    )
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(r.data, { big: 5e125, tiny: 1 })
    const stored = (await rawItem(conn, cookie)).data.M
    assert.equal(Number(stored.big.N), 5e125, 'a number again, which DynamoDB can add to')
    assert.equal(Number(stored.tiny.N), 1)
    assert.deepEqual(a.errors, [])
  })

  test('increment(k, by) with a by or a sum out of range is a TypeError naming the key, at the call', async () => {
    const conn = await freshTable('num-range')
    const a = opsApp(conn)
    const cookie = cookieOf((await a.run([{ op: 'set', key: 'n', value: 1e125 }])).res)
    a.counter.reset()
    const r = await a.run(
      [
        { op: 'increment', key: 'tiny', by: 1e-200 },
        { op: 'increment', key: 'n', by: 9e125 },
        { op: 'increment', key: 'neg', by: -1e127 },
        { op: 'increment', key: 'n', by: 1e125 },
      ],
      cookie,
    )
    assert.equal(r.status, 200)
    const names = ['tiny', 'n', 'neg']
    for (const [i, key] of names.entries()) {
      const o = r.outcomes[i] as { error: string; message: string }
      assert.equal(o.error, 'TypeError', JSON.stringify(o))
      assert.ok(o.message.includes(`"${key}"`), o.message)
    }
    assert.ok(!('error' in r.outcomes[3]), 'a sum inside the range is fine')
    assert.deepEqual(r.data, { n: 2e125 }, 'the refused increments changed nothing')
    const item = await rawItem(conn, cookie)
    assert.equal(Number(item.data.M.n.N), 2e125)
    assert.equal(item.data.M.tiny, undefined)
  })

  test('a stored value that stopped being a number under a pending increment gives NOT_A_NUMBER, not a raw DynamoDB message', async () => {
    const conn = await freshTable('num-nan')
    let cookie = ''
    const counter = countingFetch()
    const app = new Hono<SessionEnv<{ n: number }>>()
    app.use(dynamoSession<{ n: number }>({ ...conn, secret: SECRET, fetch: counter.fetch }))
    app.post('/inc', async (c) => {
      c.get('session').increment('n')
      if (cookie) {
        // Another writer (an older release, a script) turns n into a string meanwhile.
        const id = decodeURIComponent(cookie.split('=')[1]).split('.')[0]
        await ddb('UpdateItem', {
          TableName: conn.table,
          Key: { id: { S: await storedKey(id) } },
          UpdateExpression: 'SET #d.n = :s',
          ExpressionAttributeNames: { '#d': 'data' },
          ExpressionAttributeValues: { ':s': { S: 'five' } },
        })
      }
      return c.text('ok')
    })
    cookie = cookieOf(await app.request('/inc', { method: 'POST' }))
    const { result: res, lines } = await withConsoleError(() =>
      app.request('/inc', { method: 'POST', headers: { cookie } }),
    )
    assert.equal(res.status, 500)
    assert.equal(await res.text(), 'Internal Server Error')
    assert.equal(lines.length, 1)
    assert.match(lines[0].text, /^DynamoSessionError NOT_A_NUMBER: /)
  })

  test('sparse arrays are refused by set() and flash() with a TypeError naming the key', async () => {
    const conn = await freshTable('num-sparse')
    const a = opsApp(conn)
    const hole = JSON.parse('[1,2,3]')
    delete hole[1]
    const r = await a.run([
      { op: 'sparse', key: 'list' },
      { op: 'set', key: 'ok', value: [1, null, 3] },
    ])
    assert.equal(r.status, 200)
    const o = r.outcomes[0] as { error: string; message: string }
    assert.equal(o.error, 'TypeError')
    assert.match(o.message, /"list"/)
    assert.match(o.message, /sparse/)
    assert.deepEqual(r.data, { ok: [1, null, 3] })
    // Nested, and through flash, from a handler of its own (JSON cannot carry a hole).
    const app = new Hono<SessionEnv<Data>>()
    app.use(dynamoSession<Data>({ ...conn, secret: SECRET }))
    app.get('/', (c) => {
      const s = c.get('session')
      const messages: string[] = []
      // biome-ignore lint/suspicious/noSparseArray: the hole is the point
      for (const f of [() => s.set('deep', { a: [1, , 2] }), () => s.flash('f', [, 1] as never)]) {
        try {
          f()
        } catch (e) {
          messages.push(`${(e as Error).name}: ${(e as Error).message}`)
        }
      }
      return c.json(messages)
    })
    const messages = (await (await app.request('/')).json()) as string[]
    assert.equal(messages.length, 2)
    assert.match(messages[0], /^TypeError: .*"deep".*sparse/)
    assert.match(messages[1], /^TypeError: .*"f".*sparse/)
  })
})

describe('duplicate cookies', () => {
  const other = new CookieSigner(['another-apps-secret-that-is-long-enough-0123'])

  async function signedIn() {
    const conn = await freshTable('dup')
    const a = opsApp(conn)
    const ours = cookieOf((await a.run([{ op: 'set', key: 'user', value: 'ada' }])).res)
    a.counter.reset()
    return { conn, a, ours, value: ours.split('=')[1] }
  }

  test("a parent domain's sid before ours keeps the user signed in, for one GetItem", async () => {
    const { a, value } = await signedIn()
    const foreign = await other.sign(newId())
    const r = await a.run(
      [
        { op: 'get', key: 'user' },
        { op: 'set', key: 'seen', value: true },
      ],
      `sid=${foreign}; sid=${value}`,
    )
    assert.equal(r.isNew, false)
    assert.deepEqual(r.outcomes[0], { type: 'string', value: 'ada' })
    assert.deepEqual(a.counter.ops(), ['GetItem', 'UpdateItem'], 'the foreign one cost nothing')
    assert.deepEqual(r.res.headers.getSetCookie(), [], 'the cookies are left as they are')
  })

  test('a cookie of ours naming an unknown, ended or expired session is passed over for the next', async () => {
    const { a, conn, value } = await signedIn()
    const signer = new CookieSigner([SECRET])
    const unknown = await signer.sign(newId())
    // An ended one: a session logged out in another tab leaves a tombstone.
    const ended = cookieOf((await a.run([{ op: 'set', key: 'x', value: 1 }])).res)
    const expired = cookieOf((await a.run([{ op: 'set', key: 'x', value: 2 }])).res)
    const expiredId = decodeURIComponent(expired.split('=')[1]).split('.')[0]
    await ddb('UpdateItem', {
      TableName: conn.table,
      Key: { id: { S: await storedKey(expiredId) } },
      UpdateExpression: 'SET expires = :e',
      ExpressionAttributeValues: { ':e': { N: String(Math.floor(Date.now() / 1000) - 1) } },
    })
    const destroy = new Hono<SessionEnv<Data>>()
    destroy.use(dynamoSession<Data>({ ...conn, secret: SECRET }))
    destroy.post('/', (c) => {
      c.get('session').destroy()
      return c.text('bye')
    })
    assert.equal(
      (await destroy.request('/', { method: 'POST', headers: { cookie: ended } })).status,
      200,
    )
    a.counter.reset()
    const r = await a.run(
      [{ op: 'set', key: 'seen', value: 1 }],
      `sid=${unknown}; ${ended}; ${expired}; sid="${value}"`,
    )
    assert.equal(r.status, 200)
    assert.equal(r.isNew, false, 'the live session, quoted, fourth in line, wins')
    assert.deepEqual(r.data, { user: 'ada', seen: 1 })
    assert.deepEqual(a.counter.ops(), ['GetItem', 'GetItem', 'GetItem', 'GetItem', 'UpdateItem'])
  })

  test('unsigned ids: the first that loads wins', async () => {
    const conn = await freshTable('dup-unsigned')
    const a = opsApp(conn, { secret: undefined })
    const set = await a.run([{ op: 'set', key: 'user', value: 'bob' }])
    const ours = cookieOf(set.res).split('=')[1]
    assert.match(ours, /^[A-Za-z0-9_-]{43}$/)
    const r = await a.run([{ op: 'get', key: 'user' }], `sid=${newId()}; sid=; sid=${ours}`)
    assert.equal(r.isNew, false)
    assert.deepEqual(r.outcomes[0], { type: 'string', value: 'bob' })
  })

  test('at most four candidates are tried', async () => {
    const { a, value } = await signedIn()
    const signer = new CookieSigner([SECRET])
    const unknowns = await Promise.all(Array.from({ length: 4 }, () => signer.sign(newId())))
    const header = `${unknowns.map((u) => `sid=${u}`).join('; ')}; sid=${value}`
    const r = await a.run([{ op: 'get', key: 'user' }], header)
    assert.equal(r.isNew, true, 'the fifth is not read')
    assert.deepEqual(a.counter.ops(), ['GetItem', 'GetItem', 'GetItem', 'GetItem'])
    a.counter.reset()
    const three = `${unknowns
      .slice(0, 3)
      .map((u) => `sid=${u}`)
      .join('; ')}; sid=${value}`
    assert.equal((await a.run([], three)).isNew, false, 'the fourth is')
  })
})

describe('contextKey', () => {
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

describe('transforming schemas', () => {
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
    const app = new Hono<SessionEnv<Data>>()
    app.use(dynamoSession<Data>({ ...conn, secret: SECRET, schema }))
    app.get('/', (c) => {
      const value = c.get('session').get('since')
      return c.json({ isDate: value instanceof Date, iso: (value as Date).toISOString() })
    })
    app.post('/login', (c) => {
      c.get('session').regenerate()
      c.get('session').set('name', 'ada lovelace')
      return c.text('ok')
    })
    app.post('/other', (c) => {
      c.get('session').set('name', 'ada byron')
      return c.text('ok')
    })
    assert.deepEqual(await (await app.request('/', { headers: { cookie } })).json(), {
      isDate: true,
      iso: since,
    })
    const login = await app.request('/login', { method: 'POST', headers: { cookie } })
    assert.equal(login.status, 200)
    const fresh = cookieOf(login)
    const item = await rawItem(conn, fresh)
    assert.deepEqual(item.data.M.since, { S: since }, 'the stored string, not a Date')
    assert.deepEqual(item.data.M.name, { S: 'ada lovelace' })
    const after = await app.request('/', { headers: { cookie: fresh } })
    assert.deepEqual(await after.json(), { isDate: true, iso: since }, 'still signed in')
    // A change to another key writes only that key.
    assert.equal(
      (await app.request('/other', { method: 'POST', headers: { cookie: fresh } })).status,
      200,
    )
    assert.deepEqual((await rawItem(conn, fresh)).data.M.since, { S: since })
  })

  test('a transform to a class instance (URL) reaches the handler whole, and the stored string stays', async () => {
    const conn = await freshTable('schema-url')
    const cookie = await stored(conn, { home: 'https://example.com/a' })
    const schema = z.object({ home: z.string().transform((s) => new URL(s)) })
    const app = new Hono<SessionEnv<Data>>()
    app.use(dynamoSession<Data>({ ...conn, secret: SECRET, schema }))
    app.post('/', (c) => {
      const home = c.get('session').get('home') as unknown
      c.get('session').set('seen', true)
      return c.json({ url: home instanceof URL, host: (home as URL).host })
    })
    const res = await app.request('/', { method: 'POST', headers: { cookie } })
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
    const app = new Hono<SessionEnv<Data>>()
    app.use(dynamoSession<Data>({ ...conn, secret: SECRET, schema }))
    app.post('/tag', (c) => {
      const prefs = c.get('session').get('prefs') as { tags: string[] }
      prefs.tags.push('mine')
      c.get('session').set('prefs', prefs)
      return c.json(prefs.tags)
    })
    app.get('/', (c) => c.json(c.get('session').get('prefs') ?? null))
    const alice = await stored(conn, { name: 'alice' })
    const bob = await stored(conn, { name: 'bob' })
    const res = await app.request('/tag', { method: 'POST', headers: { cookie: alice } })
    assert.deepEqual(await res.json(), ['default', 'mine'])
    assert.deepEqual(SHARED, { tags: ['default'] }, "the schema's object is untouched")
    const other = await app.request('/', { headers: { cookie: bob } })
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
    const errors: DynamoSessionError[] = []
    const app = new Hono<SessionEnv<Data>>()
    app.use(
      dynamoSession<Data>({
        ...conn,
        secret: SECRET,
        schema,
        onError: (e) => {
          errors.push(e)
        },
      }),
    )
    app.get('/', (c) =>
      c.json({ isNew: c.get('session').isNew, roles: c.get('session').get('roles') }),
    )
    app.post('/login', (c) => {
      c.get('session').regenerate()
      return c.text('ok')
    })
    assert.deepEqual(await (await app.request('/', { headers: { cookie } })).json(), {
      isNew: false,
      roles: ['admin', 'editor'],
    })
    const fresh = cookieOf(await app.request('/login', { method: 'POST', headers: { cookie } }))
    assert.deepEqual((await rawItem(conn, fresh)).data.M.roles, { S: 'admin,editor' })
    assert.deepEqual(await (await app.request('/', { headers: { cookie: fresh } })).json(), {
      isNew: false,
      roles: ['admin', 'editor'],
    })
    assert.deepEqual(errors, [], 'no schema failure after the login')
  })

  test('increment() of a stored "5" that the schema coerces to 5 is a TypeError at the call', async () => {
    const conn = await freshTable('schema-coerce')
    const cookie = await stored(conn, { n: '5' })
    const app = new Hono<SessionEnv<{ n: number }>>()
    app.use(
      dynamoSession<{ n: number }>({
        ...conn,
        secret: SECRET,
        schema: z.object({ n: z.coerce.number() }),
      }),
    )
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
    const res = await app.request('/', { method: 'POST', headers: { cookie } })
    assert.equal(res.status, 200)
    const body = (await res.json()) as { seen: number; error: string }
    assert.equal(body.seen, 5)
    assert.match(body.error, /^TypeError: .*"n"/)
    assert.match(body.error, /not a number/)
    assert.deepEqual((await rawItem(conn, cookie)).data.M.n, { S: '5' }, 'nothing was written')
  })
})
