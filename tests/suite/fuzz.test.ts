// Hostile input: random and malformed Cookie headers never cost a DynamoDB call with a secret set
// and never give a 5xx; stored data that is not a session, or fails the schema, gives a fresh
// session and an onError call. The generator is seeded (FUZZ_SEED) so a failure reproduces.
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { describe, test } from 'node:test'
import { serve } from '@hono/node-server'
import type { StandardSchemaV1 } from '../../src/index.ts'
import { cookieGenerator, generator } from '../fixtures/hostile-cookies.ts'
import { type Data, type TestAppOptions, testApp } from '../support/app.ts'
import { CookieSigner, cookieOf, newId, storedKey } from '../support/cookies.ts'
import { type Conn, ddb, freshTable, SECRET, scanAll } from '../support/dynamodb.ts'

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)
console.log(`fuzz.test.ts: FUZZ_SEED=${SEED}`)

/** The test app with GET / (the session's id and whether it is new) and POST / (stores x). */
function fuzzApp(options: TestAppOptions, conn: Conn) {
  const a = testApp(conn, options)
  a.app.get('/', (c) => c.json({ id: c.get('session').id, isNew: c.get('session').isNew }))
  a.app.post('/', (c) => {
    c.get('session').set('x', 1)
    return c.json({ id: c.get('session').id })
  })
  return a
}

describe('fuzz', () => {
  test('10,000 malformed Cookie headers (duplicates, quoted and empty values, prototype names): no 5xx, nothing thrown, no DynamoDB call', async () => {
    const conn = await freshTable('fuzz')
    const f = fuzzApp({}, conn)
    // Stored sessions whose ids reach the middleware signed with another secret: a lookup of
    // them would find an item, so a skipped signature check could not hide.
    const realIds = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const res = await f.app.request('/', { method: 'POST' })
        return ((await res.json()) as { id: string }).id
      }),
    )
    const other = new CookieSigner(['another-secret-that-is-long-enough-0123456789'])
    const realForeign = await Promise.all(realIds.map((id) => other.sign(id)))
    const foreignSigned = await Promise.all(Array.from({ length: 20 }, () => other.sign(newId())))
    const next = cookieGenerator(SEED, foreignSigned, realForeign)
    f.reset()

    const N = 10_000
    let sent = 0
    const statuses = new Map<number, number>()
    for (let batch = 0; batch < N / 50; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const cookie = next()
          const res = await f.app.request('/', { headers: { cookie } })
          sent++
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
          const body = (await res.json()) as { id: string; isNew: boolean }
          assert.equal(
            body.isNew,
            true,
            `a session was loaded for Cookie: ${JSON.stringify(cookie)}`,
          )
          assert.ok(!cookie.includes(body.id), "the client's id was adopted")
        }),
      )
    }
    assert.equal(sent, N)
    assert.deepEqual([...statuses], [[200, N]], `FUZZ_SEED=${SEED}`)
    assert.deepEqual(f.thrown, [])
    assert.deepEqual(f.errors, [])
    assert.deepEqual(f.ops(), [], 'not one DynamoDB call was made')
    // The control: a correctly signed cookie of the same sessions does cost its one read.
    const own = new CookieSigner([SECRET])
    const res = await f.app.request('/', {
      headers: { cookie: `sid=${await own.sign(realIds[0])}` },
    })
    assert.equal(((await res.json()) as { isNew: boolean }).isNew, false)
    assert.deepEqual(f.ops(), ['GetItem'])
    // And behind the hostile company the fuzz sends, quoted, it still wins, for one read.
    f.reset()
    const crowded = await f.app.request('/', {
      headers: {
        cookie: `__proto__=1; constructor=; sid=; sid=${realForeign[0]}; sid="${await own.sign(realIds[1])}"`,
      },
    })
    const body = (await crowded.json()) as { id: string; isNew: boolean }
    assert.deepEqual(body, { id: realIds[1], isNew: false })
    assert.deepEqual(f.ops(), ['GetItem'])
  })

  test('malformed Cookie headers as raw bytes over real HTTP: no 5xx', {
    timeout: 60_000,
  }, async () => {
    const conn = await freshTable('fuzz-http')
    const f = fuzzApp({}, conn)
    const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
      (resolve) => {
        const server = serve({ fetch: f.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
          resolve({ server, port: info.port }),
        )
      },
    )
    const r = generator(SEED + 1)
    const raw = (cookie: Uint8Array) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1')
        const chunks: Buffer[] = []
        socket.on('data', (d) => chunks.push(d))
        socket.on('error', reject)
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
        socket.write(
          Buffer.concat([
            Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: sid='),
            cookie,
            Buffer.from('\r\n\r\n'),
          ]),
        )
      })
    try {
      const encoder = new TextEncoder()
      for (let i = 0; i < 200; i++) {
        const kind = i % 4
        const bytes =
          kind === 0
            ? encoder.encode(`${newId()}.${'é😀中'.repeat(1 + r.int(20))}`)
            : kind === 1
              ? Uint8Array.from({ length: r.int(300) }, () => 0x20 + r.int(0xe0))
              : kind === 2
                ? encoder.encode(`${newId()}.${newId()}`)
                : Uint8Array.from({ length: 1 + r.int(40) }, () => 1 + r.int(255)).filter(
                    (b) => b !== 10 && b !== 13,
                  )
        const answer = await raw(bytes)
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0)
        assert.ok(
          status >= 200 && status < 500,
          `status ${status} (${JSON.stringify(answer.slice(0, 80))})`,
        )
      }
      assert.deepEqual(f.thrown, [])
      assert.deepEqual(f.ops(), [])
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  test('stored data that is not a session gives a fresh session and an onError call', async () => {
    const conn = await freshTable('fuzz-notmap')
    const f = fuzzApp({}, conn)
    const signer = new CookieSigner([SECRET])
    const future = String(Math.floor(Date.now() / 1000) + 3600)
    const now = String(Math.floor(Date.now() / 1000))
    const variants: Record<string, Record<string, unknown>> = {
      'data is a string': { data: { S: 'hello' }, expires: { N: future }, created: { N: now } },
      'data is a list': { data: { L: [{ S: 'a' }] }, expires: { N: future }, created: { N: now } },
      'data is missing': { expires: { N: future }, created: { N: now } },
      'flash is a number': {
        data: { M: {} },
        flash: { N: '1' },
        expires: { N: future },
        created: { N: now },
      },
      'a value of a type never written': {
        data: { M: { a: { SS: ['x', 'y'] } } },
        expires: { N: future },
        created: { N: now },
      },
    }
    // An item without a numeric expiry in the future is no session, whatever else it holds:
    // it is passed over like an expired one (nothing to report, TTL's business).
    const noExpiry: Record<string, Record<string, unknown>> = {
      'expires is a string': { data: { M: {} }, expires: { S: 'soon' }, created: { N: now } },
    }
    for (const [name, attributes] of Object.entries({ ...variants, ...noExpiry })) {
      const id = newId()
      await ddb('PutItem', {
        TableName: conn.table,
        Item: { id: { S: await storedKey(id) }, ...attributes },
      })
      f.errors.length = 0
      const cookie = `sid=${await signer.sign(id)}`
      const res = await f.app.request('/', { headers: { cookie } })
      assert.equal(res.status, 200, name)
      const body = (await res.json()) as { id: string; isNew: boolean }
      assert.equal(body.isNew, true, name)
      assert.notEqual(body.id, id, `${name}: the unreadable session's id is not reused`)
      assert.deepEqual(
        f.errors.map((e) => e.code),
        name in noExpiry ? [] : ['INVALID_DATA'],
        name,
      )
      // Writing to the fresh session stores a new item and leaves the unreadable one alone.
      const written = await f.app.request('/', { method: 'POST', headers: { cookie } })
      assert.equal(written.status, 200, name)
      assert.notEqual(cookieOf(written), cookie)
    }
    assert.deepEqual(f.thrown, [])
    assert.equal(
      (await scanAll(conn.table)).length,
      2 * (Object.keys(variants).length + Object.keys(noExpiry).length),
    )
  })

  test('an async schema that rejects the data, or throws, gives a fresh session and onError', async () => {
    const conn = await freshTable('fuzz-schema')
    const seedApp = fuzzApp({}, conn)
    const cookie = cookieOf(await seedApp.app.request('/', { method: 'POST' }))
    const schemas: Record<string, StandardSchemaV1> = {
      'an async rejection': {
        '~standard': {
          version: 1,
          vendor: 'test',
          validate: async () => ({ issues: [{ message: 'x must be a string' }] }),
        },
      },
      'a validator that throws': {
        '~standard': {
          version: 1,
          vendor: 'test',
          validate: () => {
            throw new Error('validator bug')
          },
        },
      },
    }
    for (const [name, schema] of Object.entries(schemas)) {
      const f = fuzzApp({ schema: schema as StandardSchemaV1<Data> }, conn)
      const res = await f.app.request('/', { headers: { cookie } })
      assert.equal(res.status, 200, name)
      assert.equal(((await res.json()) as { isNew: boolean }).isNew, true, name)
      assert.equal(f.errors.length, 1, name)
      assert.deepEqual(f.thrown, [], name)
    }
    // A schema that passes loads the session: the two above failed because of the data check.
    const ok = fuzzApp(
      {
        schema: {
          '~standard': {
            version: 1,
            vendor: 'test',
            validate: async (value) => ({ value: value as Data }),
          },
        },
      },
      conn,
    )
    const res = await ok.app.request('/', { headers: { cookie } })
    assert.equal(((await res.json()) as { isNew: boolean }).isNew, false)
  })
})
