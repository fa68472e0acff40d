// Store errors: never a 2xx for a change that was not stored; clear messages for setup mistakes.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { z } from 'zod'
import { type DynamoSessionError, dynamoSession, type SessionEnv } from '../../src/index.ts'
import { testApp } from '../support/app.ts'
import { testEndpoint } from '../support/backend.ts'
import { withConsoleError } from '../support/console.ts'
import { cookieOf } from '../support/cookies.ts'
import { credentials, freshTable, SECRET, scanAll } from '../support/dynamodb.ts'

/** A table that does not exist, on the suite's DynamoDB. */
const missing = () => ({
  table: 'no-such-table',
  region: 'us-east-1',
  endpoint: testEndpoint(),
  credentials,
})

describe('errors', () => {
  test('a missing table gives a generic 500 and a log line naming the table, region, endpoint and the fix', async () => {
    // Without onError: the library logs the detail with console.error, Hono sends the response.
    const a = testApp(missing(), { onError: undefined, appOnError: null })
    const { result: res, all } = await withConsoleError(() => a.post('/set/a/1'))
    assert.equal(res.status, 500)
    assert.equal(await res.text(), 'Internal Server Error')
    assert.match(all, /TABLE_NOT_FOUND/)
    assert.match(all, /no-such-table/)
    assert.match(all, /us-east-1/)
    assert.ok(all.includes(testEndpoint()))
    assert.match(all, /createSessionTable|create-table/)
  })

  test('a 450 KB session is refused before it is sent, and the previous data is intact', async () => {
    const conn = await freshTable('large')
    const counter = testApp(conn, { onError: undefined, appOnError: null })
    counter.app.post('/large', (c) => {
      c.get('session').set('blob', 'x'.repeat(450 * 1024))
      return c.text('ok')
    })
    const cookie = cookieOf(await counter.post('/set/small/kept'))
    counter.reset()
    const { result: res, all } = await withConsoleError(() => counter.post('/large', cookie))
    assert.equal(res.status, 500)
    assert.equal(await res.text(), 'Internal Server Error')
    assert.match(all, /TOO_LARGE/)
    assert.match(all, /4\d{5} bytes/)
    assert.match(all, /400 KB/)
    assert.deepEqual(counter.ops(), ['GetItem'], 'the oversized write was never sent')
    assert.deepEqual(await counter.whoami(cookie), { small: 'kept' })
    // a new session that is too large from the start is refused the same way
    // (A message is logged once a minute: this second TOO_LARGE adds no line.)
    const { result: fresh } = await withConsoleError(() => counter.post('/large'))
    assert.equal(fresh.status, 500)
    assert.equal(fresh.headers.getSetCookie().length, 0)
    assert.equal((await scanAll(conn.table)).length, 1)
  })

  test('throttling that never ends gives 503 with Retry-After, and nothing is stored', async () => {
    const conn = await freshTable('throttle')
    const counter = testApp(conn, {
      fetch: async () =>
        Response.json(
          { __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'slow down' },
          { status: 400 },
        ),
      retry: { attempts: 3, budgetMs: 2000 },
      onError: undefined,
      appOnError: null,
    })
    const { result: res, lines } = await withConsoleError(() => counter.post('/set/a/1'))
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '1')
    assert.equal(await res.text(), 'Service Unavailable')
    assert.equal(lines.length, 1, 'the outage is logged once')
    assert.match(lines[0].text, /THROTTLED/)
    assert.equal(
      res.headers.getSetCookie().length,
      0,
      'no cookie for a session that was not stored',
    )
    assert.deepEqual(counter.ops(), ['PutItem', 'PutItem', 'PutItem'])
    assert.equal((await scanAll(conn.table)).length, 0)
  })

  test('missing region and credentials are named with the ways to set them', async () => {
    const saved = { ...process.env }
    for (const k of [
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
    ]) {
      delete process.env[k]
    }
    try {
      const quiet = { onError: undefined, appOnError: null }
      const noRegion = testApp({ table: 'sessions', endpoint: testEndpoint() }, quiet)
      const { result: res, all: text } = await withConsoleError(() => noRegion.post('/set/a/1'))
      assert.equal(res.status, 500)
      assert.equal(await res.text(), 'Internal Server Error')
      assert.match(text, /MISSING_CONFIG/)
      assert.match(text, /region/)
      assert.match(text, /AWS_REGION/)
      assert.match(text, /AWS_DEFAULT_REGION/)
      const noCreds = testApp(
        { table: 'sessions', endpoint: testEndpoint(), region: 'us-east-1' },
        quiet,
      )
      const { result: res2, all: text2 } = await withConsoleError(() => noCreds.post('/set/a/1'))
      assert.equal(await res2.text(), 'Internal Server Error')
      assert.match(text2, /AWS_ACCESS_KEY_ID/)
    } finally {
      Object.assign(process.env, saved)
    }
  })

  test('a SESSION_SECRET too short in the process environment stops the app at start', () => {
    const saved = process.env.SESSION_SECRET
    process.env.SESSION_SECRET = 'short'
    try {
      assert.throws(
        () => dynamoSession({ table: 'sessions' }),
        (e: DynamoSessionError) =>
          e.code === 'INVALID_OPTIONS' &&
          e.option === 'SESSION_SECRET' &&
          /at least 32 characters/.test(e.message),
      )
    } finally {
      if (saved === undefined) delete process.env.SESSION_SECRET
      else process.env.SESSION_SECRET = saved
    }
  })

  test('a SESSION_SECRET too short in a Worker env fails each request with 500, logged in one line once', async () => {
    const conn = await freshTable('short-secret')
    const app = new Hono()
    app.use(dynamoSession({ ...conn }))
    app.get('/', (c) => c.text('ok'))
    const { result, lines } = await withConsoleError(async () => {
      const statuses: number[] = []
      for (let n = 0; n < 3; n++)
        statuses.push((await app.request('/', {}, { SESSION_SECRET: 'short' })).status)
      return statuses
    })
    assert.deepEqual(result, [500, 500, 500])
    assert.equal(lines.length, 1, 'a misconfiguration is logged once, not on every request')
    assert.equal(typeof lines[0].args[0], 'string', 'one line, no stack trace')
    assert.match(
      lines[0].text,
      /^DynamoSessionError INVALID_OPTIONS: .*SESSION_SECRET.*32 characters/,
    )
  })

  test('errors whose messages differ by what clients send log at most 32 lines a minute', async () => {
    const conn = await freshTable('log-bound')
    const app = new Hono<SessionEnv<{ draft: string }>>()
    app.use(dynamoSession<{ draft: string }>({ ...conn, secret: SECRET }))
    app.post('/draft', async (c) => {
      c.get('session').set('draft', await c.req.text())
      return c.text('saved')
    })
    const { result, lines } = await withConsoleError(async () => {
      const statuses = new Set<number>()
      for (let n = 0; n < 40; n++) {
        const body = 'x'.repeat(410_000 + n) // over DynamoDB's item size, a different size each
        statuses.add((await app.request('/draft', { method: 'POST', body })).status)
      }
      return statuses
    })
    assert.deepEqual([...result], [500])
    assert.equal(lines.length, 32, `${lines.length} lines for 40 requests`)
    assert.match(lines[0].text, /^DynamoSessionError TOO_LARGE: /)
  })

  test('connection settings come from the environment when options leave them out', async () => {
    const conn = await freshTable('fromenv')
    const saved = { ...process.env }
    Object.assign(process.env, {
      SESSION_TABLE: conn.table,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: testEndpoint(),
      AWS_ACCESS_KEY_ID: 'env',
      AWS_SECRET_ACCESS_KEY: 'env',
      SESSION_SECRET: SECRET,
    })
    try {
      const app = new Hono<SessionEnv<{ a: number }>>()
      app.use(dynamoSession<{ a: number }>())
      app.get('/', (c) => {
        c.get('session').set('a', 1)
        return c.text('ok')
      })
      const res = await app.request('/')
      assert.equal(res.status, 200)
      assert.match(cookieOf(res), /^sid=[^.]{43}\.[^.]{43}$/, 'SESSION_SECRET signs the cookie')
      assert.equal((await scanAll(conn.table)).length, 1)
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
      Object.assign(process.env, saved)
    }
  })

  test('stored data failing the schema gives a fresh session and onError is told', async () => {
    const conn = await freshTable('schema')
    const loose = testApp(conn)
    loose.app.post('/number', (c) => {
      c.get('session').set('user', 42)
      return c.text('ok')
    })
    const cookie = cookieOf(await loose.post('/number'))
    const strict = testApp(conn, { schema: z.object({ user: z.string().optional() }) })
    const res = await strict.get('/read', cookie)
    assert.equal(res.status, 200)
    const { isNew, data } = await res.json()
    assert.deepEqual({ user: data.user ?? null, isNew }, { user: null, isNew: true })
    assert.equal(strict.errors.length, 1)
    assert.equal(strict.errors[0].code, 'INVALID_DATA')
    assert.equal((await scanAll(conn.table)).length, 1, 'the old item is left to expire')
  })

  test('a save that fails after the handler ran replaces its 2xx with 503', async () => {
    const conn = await freshTable('savefail')
    let failWrites = false
    const a = testApp(conn, {
      retry: { attempts: 2, budgetMs: 1000 },
      fetch: async (input, init) => {
        const request = new Request(input, init)
        if (failWrites && request.headers.get('x-amz-target')?.endsWith('UpdateItem')) {
          return new Response('{"__type":"InternalServerError"}', { status: 500 })
        }
        return fetch(request)
      },
    })
    a.app.post('/count', (c) => {
      c.get('session').increment('a')
      c.header('x-handler', 'ran')
      return c.json({ a: c.get('session').get('a') })
    })
    const cookie = cookieOf(await a.post('/count'))
    failWrites = true
    const res = await a.post('/count', cookie)
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('x-handler'), null, 'none of the handler response survives')
    assert.deepEqual(a.codes(), ['UNAVAILABLE'])
    failWrites = false
    assert.deepEqual(await (await a.post('/count', cookie)).json(), { a: 2 })
  })

  test('onError may answer with its own response', async () => {
    const a = testApp(missing(), { onError: (e, c) => c.text(`custom ${e.code}`, 502) })
    const res = await a.post('/set/a/1')
    assert.equal(res.status, 502)
    assert.equal(await res.text(), 'custom TABLE_NOT_FOUND')
  })

  test('a handler that throws leaves the session unchanged', async () => {
    const conn = await freshTable('throws')
    // Hono's default error handler, which logs the handler's error.
    const a = testApp(conn, { appOnError: null })
    a.app.post('/boom', (c) => {
      c.get('session').set('a', 1)
      throw new Error('boom')
    })
    const { result: res, all } = await withConsoleError(() => a.post('/boom'))
    assert.match(all, /^Error: boom/)
    assert.equal(res.status, 500)
    assert.equal(res.headers.getSetCookie().length, 0)
    assert.equal((await scanAll(conn.table)).length, 0)
  })
})
