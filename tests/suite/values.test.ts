// Session values are JSON values: everything else is refused at once; JSON round-trips exactly.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { dynamoSession, type SessionEnv } from '../../src/index.ts'
import { cookieOf, freshTable, SECRET } from '../helpers.ts'

type Data = Record<string, unknown>

async function setup() {
  const conn = await freshTable('values')
  const app = new Hono<SessionEnv<Data>>()
  let handler: (s: import('../../src/index.ts').Session<Data>) => unknown = () => null
  app.use(dynamoSession<Data>({ ...conn, secret: SECRET }))
  app.all('/', async (c) => {
    const result = await handler(c.get('session'))
    return c.json(result ?? null)
  })
  const run = async (fn: typeof handler, cookie?: string) => {
    handler = fn
    const res = await app.request('/', cookie ? { headers: { cookie } } : {})
    return { res, body: await res.json(), cookie: res.headers.getSetCookie()[0]?.split(';')[0] }
  }
  return { run, conn }
}

class Point {
  x = 1
}

describe('values', () => {
  const refused: [string, unknown, RegExp][] = [
    ['a Date', new Date(), /Date instance is not a plain object/],
    ['undefined', undefined, /undefined is not a JSON value; use session\.delete/],
    ['NaN', Number.NaN, /NaN is not a finite number/],
    ['Infinity', Number.POSITIVE_INFINITY, /Infinity is not a finite number/],
    ['a Map', new Map([[1, 2]]), /Map instance is not a plain object/],
    ['a class instance', new Point(), /Point instance is not a plain object/],
    ['a BigInt', 10n, /BigInt is not a JSON value/],
    ['a function', () => 1, /function is not a JSON value/],
    ['a nested Date', { when: [new Date()] }, /\.when: \[0\]: a Date instance/],
  ]
  for (const [name, value, message] of refused) {
    test(`set() with ${name} throws a TypeError naming the key, and stores nothing`, async () => {
      const { run } = await setup()
      const { body, cookie } = await run((s) => {
        try {
          s.set('the-key', value)
          return 'no error'
        } catch (error) {
          assert.ok(error instanceof TypeError)
          assert.match(error.message, /"the-key"/)
          assert.match(error.message, message)
          return { has: s.has('the-key') }
        }
      })
      assert.deepEqual(body, { has: false })
      assert.equal(cookie, undefined, 'nothing was written')
    })
  }

  test('a value of 30 nested arrays and objects is stored and read back; 31 are refused at set()', async () => {
    const { run } = await setup()
    const nested = (levels: number): unknown => {
      let v: unknown = 1
      for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { v }
      return v
    }
    const deepest = nested(30)
    const stored = await run((s) => s.set('deep', deepest))
    assert.equal(stored.res.status, 200)
    assert.ok(stored.cookie, 'the session was written')
    const read = await run((s) => s.get('deep'), stored.cookie)
    assert.deepEqual(read.body, deepest)
    const refused = await run((s) => {
      try {
        s.set('deeper', nested(31))
        return 'no error'
      } catch (error) {
        return (error as Error).message
      }
    }, stored.cookie)
    assert.equal(refused.res.status, 200)
    assert.match(refused.body, /"deeper".*more than 30 arrays and objects/)
  })

  test('a circular structure is refused', async () => {
    const { run } = await setup()
    const { body } = await run((s) => {
      const loop: Record<string, unknown> = {}
      loop.self = loop
      try {
        s.set('loop', loop)
      } catch (error) {
        return (error as Error).message
      }
    })
    assert.match(body, /circular/)
  })

  test('nested JSON, extreme numbers, unicode keys and keys with . and # round-trip exactly', async () => {
    const { run } = await setup()
    const data: Record<string, unknown> = {
      nested: { a: [1, [2, { b: null }], { c: { d: 'deep' } }], e: {}, f: [] },
      numbers: [
        0,
        -1,
        Number.MAX_SAFE_INTEGER,
        Number.MIN_SAFE_INTEGER,
        -1.5e-7,
        1e21,
        1.7976931348623157e308,
        -5e-324,
        1e-200,
        0.1 + 0.2,
        123456789.12345679,
      ],
      'ünïcödé 🔑': 'välue ✓',
      'a.b': 'dot',
      '#hash': 'hash',
      ':colon': 'colon',
      'key with spaces': true,
      empty: '',
      no: false,
      nothing: null,
    }
    const first = await run((s) => {
      for (const [k, v] of Object.entries(data)) s.set(k, v)
    })
    const second = await run((s) => s.data, first.cookie)
    assert.deepEqual(second.body, data)
    // and the same again through an UpdateItem of every key
    const third = await run((s) => {
      for (const [k, v] of Object.entries(data)) s.set(k, { wrapped: v })
    }, first.cookie)
    assert.equal(third.res.status, 200)
    const fourth = await run((s) => s.data, first.cookie)
    assert.deepEqual(
      fourth.body,
      Object.fromEntries(Object.entries(data).map(([k, v]) => [k, { wrapped: v }])),
    )
  })

  test('an object from get(), changed in place and set() again, is written', async () => {
    const { run } = await setup()
    const first = await run((s) => {
      s.set('cart', ['apple'])
    })
    await run((s) => {
      const cart = s.get('cart') as string[]
      cart.push('pear')
      s.set('cart', cart)
    }, first.cookie)
    const third = await run((s) => s.get('cart'), first.cookie)
    assert.deepEqual(third.body, ['apple', 'pear'])
  })

  test('increment adds on the server and reflects locally', async () => {
    const { run } = await setup()
    const first = await run((s) => {
      s.increment('n')
      s.increment('n', 2)
      return s.get('n')
    })
    assert.equal(first.body, 3)
    const second = await run((s) => {
      s.increment('n', -10)
      return s.get('n')
    }, first.cookie)
    assert.equal(second.body, -7)
    const third = await run((s) => s.get('n'), first.cookie)
    assert.equal(third.body, -7)
    const bad = await run((s) => {
      s.set('t', 'text')
      try {
        s.increment('t')
      } catch (error) {
        return (error as Error).message
      }
    }, first.cookie)
    assert.match(bad.body, /"t".*not a number/)
  })

  test('flash values are readable on the next request only', async () => {
    const { run } = await setup()
    const first = await run((s) => {
      s.set('user', 'ada')
      s.flash('notice', 'Signed in')
      return s.takeFlash('notice') ?? null
    })
    assert.equal(first.body, null, 'not in the same request')
    const second = await run((s) => s.takeFlash('notice'), first.cookie)
    assert.equal(second.body, 'Signed in')
    const third = await run((s) => s.takeFlash('notice') ?? null, first.cookie)
    assert.equal(third.body, null)
  })

  test('has, delete and data reflect the session', async () => {
    const { run } = await setup()
    const first = await run((s) => {
      s.set('a', 1)
      s.set('b', 2)
      s.delete('a')
      return { has: [s.has('a'), s.has('b')], data: s.data, isNew: s.isNew }
    })
    assert.deepEqual(first.body, { has: [false, true], data: { b: 2 }, isNew: true })
    const second = await run((s) => ({ isNew: s.isNew, expires: s.expiresAt }), cookieOf(first.res))
    assert.equal(second.body.isNew, false)
    assert.ok(new Date(second.body.expires).getTime() > Date.now())
  })
})
