// What store errors show and to whom: generic bodies for clients, the detail in console.error
// (transient failures once per code per minute per middleware instance) or in `onError`, Hono's
// `app.onError` in between, outer middleware's headers kept, credentials functions and fetches
// held to the retry budget, and a refused environment read named as such.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Hono, type MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import { HTTPException } from 'hono/http-exception'
import { DynamoSessionError, dynamoSession, type SessionEnv } from '../../src/index.ts'
import { freePort } from '../infra/dynamodb-local.ts'
import { startProcess } from '../infra/process.ts'
import { type Data, type Env, type TestAppOptions, testApp } from '../support/app.ts'
import { backend, testEndpoint } from '../support/backend.ts'
import { virtualClock } from '../support/clock.ts'
import { withConsoleError } from '../support/console.ts'
import { CookieSigner, cookieOf, newId } from '../support/cookies.ts'
import { credentials, freshTable, SECRET, scanAll } from '../support/dynamodb.ts'
import { recordingFetch } from '../support/fetch.ts'

/**
 * The test app's Hono app, with POST /change (a new value: always a change; a header of its own),
 * store errors left to console.error and Hono's own error handler unless `options` says otherwise.
 */
function app(options: TestAppOptions & { table?: string }, outer: MiddlewareHandler[] = []) {
  const { table = 'sessions', ...rest } = options
  const a = testApp({ table }, { onError: undefined, appOnError: null, use: outer, ...rest })
  a.app.post('/change', (c) => {
    c.get('session').set('a', newId())
    c.header('x-handler', 'ran')
    return c.text('handler ok')
  })
  return a.app
}

const post = (a: Hono<Env>, path: string, headers: Record<string, string> = {}) =>
  a.request(path, { method: 'POST', headers })

/** A DynamoDB error answer as DynamoDB sends it: HTTP 400, its JSON content type, `__type`. */
const dynamoError = (type: string, message: string, status = 400) =>
  new Response(JSON.stringify({ __type: `com.amazon.coral.service#${type}`, Message: message }), {
    status,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': 'Q1R2S3T4U5V6W7X8Y9Z0ABCDEFGHIJKLMNOPQRSTUVWXYZ01',
    },
  })

/** Every header name and value and the body of a response, for looking for leaks. */
async function visible(res: Response): Promise<string> {
  return `${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${await res.text()}`
}

describe('error bodies', () => {
  // What DynamoDB answers a role without dynamodb:GetItem or dynamodb:PutItem.
  const ACCOUNT = '123456789012'
  const ROLE = `arn:aws:sts::${ACCOUNT}:assumed-role/checkout-web-role/i-0a1b2c3d4e5f`
  const conn = {
    table: 'prod-checkout-sessions',
    region: 'eu-west-3',
    endpoint: 'https://dynamodb.eu-west-3.amazonaws.com',
    credentials,
  }
  const denied: typeof fetch = async (input, init) => {
    const op = new Request(input, init).headers.get('x-amz-target')?.split('.')[1]
    return dynamoError(
      'AccessDeniedException',
      `User: ${ROLE} is not authorized to perform: dynamodb:${op} on resource: arn:aws:dynamodb:${conn.region}:${ACCOUNT}:table/${conn.table} because no identity-based policy allows the dynamodb:${op} action`,
    )
  }
  const secrets = [
    ACCOUNT,
    'arn:',
    'checkout-web-role',
    conn.table,
    conn.region,
    'amazonaws.com',
    'AccessDenied',
    'not authorized',
  ]
  const cookie = async () => `sid=${await new CookieSigner([SECRET]).sign(newId())}`

  test('AccessDeniedException: the body tells nothing, the log line tells everything', async () => {
    const a = app({ ...conn, fetch: denied })
    const { result, lines } = await withConsoleError(async () => [
      await post(a, '/change'), // PutItem of a new session
      await a.request('/read', { headers: { cookie: await cookie() } }), // GetItem
    ])
    for (const res of result) {
      assert.equal(res.status, 500)
      const shown = await visible(res)
      assert.match(shown, /\n\nInternal Server Error$/)
      for (const s of secrets) assert.ok(!shown.includes(s), `the response shows ${s}:\n${shown}`)
    }
    assert.equal(lines.length, 2, 'a setup problem is logged on every request')
    for (const [i, op] of ['PutItem', 'GetItem'].entries()) {
      const line = lines[i].text
      assert.match(line, /ACCESS_DENIED/)
      for (const s of [ACCOUNT, ROLE, conn.table, conn.region, conn.endpoint, `dynamodb:${op}`]) {
        assert.ok(line.includes(s), `the log line lacks ${s}: ${line}`)
      }
      assert.match(line, /IAM policy/, 'the log line says what to fix')
    }
  })

  test('with onError, it gets the detail and the client still gets the generic body', async () => {
    const seen: DynamoSessionError[] = []
    const a = app({
      ...conn,
      fetch: denied,
      onError: (e) => {
        seen.push(e)
      },
    })
    const { result: res, lines } = await withConsoleError(() => post(a, '/change'))
    assert.equal(res.status, 500)
    const shown = await visible(res)
    for (const s of secrets) assert.ok(!shown.includes(s), `the response shows ${s}`)
    assert.equal(lines.length, 0, 'onError replaces console.error')
    assert.equal(seen.length, 1)
    assert.equal(seen[0].code, 'ACCESS_DENIED')
    assert.equal(seen[0].awsType, 'AccessDeniedException')
    assert.ok(seen[0].message.includes(ROLE) && seen[0].message.includes(conn.table))
  })
})

describe('logging transient failures', () => {
  test('a wrong endpoint port logs once per minute per middleware instance, not per request', async () => {
    const conn = await freshTable('lograte')
    const endpoint = `http://127.0.0.1:${await freePort()}` // nothing listens there
    const options = { ...conn, endpoint, retry: { attempts: 2, budgetMs: 2000 } }
    const one = app(options)
    const two = app(options)
    const clock = virtualClock()
    try {
      const { result: statuses, lines } = await withConsoleError(async (lines) => {
        const out: number[] = []
        const counts: number[] = []
        const request = async (a: Hono<Env>) => {
          const res = await post(a, '/change')
          assert.equal(res.headers.get('retry-after'), '1')
          assert.equal(await res.text(), 'Service Unavailable')
          out.push(res.status)
        }
        for (let i = 0; i < 5; i++) await request(one)
        counts.push(lines.length)
        clock.advance(30)
        await request(one)
        counts.push(lines.length)
        clock.advance(31)
        await request(one)
        await request(one)
        counts.push(lines.length)
        await request(two)
        await request(two)
        counts.push(lines.length)
        return { out, counts }
      })
      assert.deepEqual(
        statuses.out,
        statuses.out.map(() => 503),
      )
      assert.deepEqual(
        statuses.counts,
        [1, 1, 2, 3],
        'one line for five requests, none 30 s later, one more after a minute, one for the other instance',
      )
      for (const l of lines) {
        assert.match(l.text, /NETWORK/)
        assert.ok(l.text.includes(endpoint), `the line names the endpoint: ${l.text}`)
      }
    } finally {
      clock.restore()
    }
  })
})

describe('outer headers', () => {
  const corsed = () => cors({ origin: 'https://shop.example', exposeHeaders: ['Retry-After'] })
  const requestId: MiddlewareHandler = async (c, next) => {
    c.header('x-request-id', 'req-1')
    await next()
  }
  const failingWrites: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    if (request.headers.get('x-amz-target')?.endsWith('GetItem')) return fetch(request)
    return dynamoError('InternalServerError', 'Internal server error', 500)
  }

  const handlers = {
    "Hono's default error handler": false,
    'the onError option': true,
    'an app.onError returning err.getResponse()': false,
  }
  for (const [how, withOnError] of Object.entries(handlers)) {
    test(`a failed save behind cors() keeps Access-Control-Allow-Origin and Retry-After, and drops the handler's headers (${how})`, async () => {
      const conn = await freshTable('cors')
      const seed = app(conn)
      const cookie = cookieOf(await post(seed, '/change'))
      const a = app(
        {
          ...conn,
          fetch: failingWrites,
          retry: { attempts: 2, budgetMs: 1000 },
          ...(withOnError ? { onError: () => {} } : {}),
        },
        [corsed(), requestId],
      )
      if (how.startsWith('an app.onError')) {
        // The pattern Hono documents for HTTPException.
        a.onError((err, c) =>
          err instanceof HTTPException ? err.getResponse() : c.text('unexpected', 500),
        )
      }
      const origin = { origin: 'https://shop.example' }
      const { result } = await withConsoleError(async () => ({
        changed: await post(a, '/change', { ...origin, cookie }),
        fresh: await post(a, '/change', origin),
      }))
      for (const res of [result.changed, result.fresh]) {
        assert.equal(res.status, 503)
        assert.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example')
        assert.match(res.headers.get('access-control-expose-headers') ?? '', /Retry-After/)
        assert.equal(res.headers.get('retry-after'), '1')
        assert.equal(res.headers.get('x-request-id'), 'req-1', 'set before the handler: kept')
        assert.equal(res.headers.get('x-handler'), null, "the handler's own header is dropped")
        assert.deepEqual(res.headers.getSetCookie(), [], 'no cookie for an unsaved session')
        assert.equal(await res.text(), 'Service Unavailable')
      }
    })
  }

  test('a failed load behind cors() keeps its headers too', async () => {
    const a = app(
      {
        table: 'sessions',
        region: 'us-east-1',
        endpoint: testEndpoint(),
        credentials,
        fetch: async () => dynamoError('ThrottlingException', 'Rate exceeded'),
        retry: { attempts: 2, budgetMs: 500 },
      },
      [corsed()],
    )
    const cookie = `sid=${await new CookieSigner([SECRET]).sign(newId())}`
    const { result: res } = await withConsoleError(() =>
      a.request('/read', { headers: { cookie, origin: 'https://shop.example' } }),
    )
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example')
    assert.equal(res.headers.get('retry-after'), '1')
  })
})

describe('app.onError', () => {
  /** The three kinds of failure: 503 (DynamoDB failing), 500 (no table), 409 (session ended). */
  async function scenarios() {
    const conn = await freshTable('apperr')
    const live = app(conn)
    const ended = cookieOf(await post(live, '/change'))
    assert.equal((await post(live, '/logout', { cookie: ended })).status, 200)
    return [
      {
        status: 503,
        code: 'UNAVAILABLE',
        options: {
          ...conn,
          fetch: async () => dynamoError('InternalServerError', 'Internal server error', 500),
          retry: { attempts: 2, budgetMs: 1000 },
        },
        cookie: undefined,
        body: 'Service Unavailable',
      },
      {
        status: 500,
        code: 'TABLE_NOT_FOUND',
        options: { ...conn, table: `${conn.table}-missing` },
        cookie: undefined,
        body: 'Internal Server Error',
      },
      { status: 409, code: 'SESSION_GONE', options: conn, cookie: ended, body: 'Conflict' },
    ]
  }

  test('app.onError receives a DynamoSessionError with status 503, 500 or 409 and the response it stands for', async () => {
    for (const s of await scenarios()) {
      const seen: unknown[] = []
      const a = app(s.options)
      a.onError((err, c) => {
        seen.push(err)
        return c.text(`custom page for ${(err as HTTPException).status}`, 418)
      })
      const { result: res } = await withConsoleError(() =>
        post(a, '/change', s.cookie ? { cookie: s.cookie } : {}),
      )
      assert.equal(res.status, 418, s.code)
      assert.equal(await res.text(), `custom page for ${s.status}`)
      assert.equal(seen.length, 1)
      const err = seen[0] as DynamoSessionError
      assert.ok(err instanceof DynamoSessionError, s.code)
      assert.ok(err instanceof HTTPException, 'an HTTPException, as Hono users expect')
      assert.equal(err.status, s.status)
      assert.equal(err.code, s.code)
      const own = err.getResponse()
      assert.equal(own.status, s.status)
      assert.equal(await own.text(), s.body)
      assert.equal(own.headers.get('retry-after'), s.status === 503 ? '1' : null)
    }
  })

  test("without app.onError, Hono's default handler sends the generic response; a 409 is logged in one line", async () => {
    for (const s of await scenarios()) {
      const a = app(s.options)
      const { result: res, lines } = await withConsoleError(() =>
        post(a, '/change', s.cookie ? { cookie: s.cookie } : {}),
      )
      assert.equal(res.status, s.status, s.code)
      assert.equal(await res.text(), s.body)
      assert.equal(res.headers.get('retry-after'), s.status === 503 ? '1' : null)
      assert.equal(res.headers.get('x-handler'), null)
      assert.deepEqual(res.headers.getSetCookie(), [], 'no cookie set or cleared')
      assert.equal(lines.length, 1, `${s.code}: one log line (Hono's handler adds none)`)
      assert.ok(lines[0].text.includes(s.code), lines[0].text)
      if (s.status === 409) {
        assert.equal(lines[0].args.length, 1)
        assert.equal(typeof lines[0].args[0], 'string', 'a routine 409 is no stack trace')
        assert.ok(!(lines[0].args[0] as string).includes('\n'), 'one line')
      }
    }
  })
})

describe('credentials functions', () => {
  /** An app whose credentials come from `fn`; the counter sees every DynamoDB call. */
  async function withCredentials(
    fn: TestAppOptions['credentials'],
    retry = { attempts: 2, budgetMs: 2000 },
  ) {
    const conn = await freshTable('creds')
    const counter = recordingFetch()
    const errors: DynamoSessionError[] = []
    const a = app({
      ...conn,
      credentials: fn,
      fetch: counter.fetch,
      retry,
      onError: (e) => {
        errors.push(e)
      },
    })
    const started = performance.now()
    const res = await post(a, '/change')
    return { res, ms: performance.now() - started, errors, counter, conn }
  }

  test('one returning undefined or a malformed value: 500 MISSING_CONFIG naming the option, never the environment', async (t) => {
    // Credentials in the environment that a fall-back would use.
    const saved = [process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY]
    process.env.AWS_ACCESS_KEY_ID ||= 'AKIAFROMTHEENVIRONMENT'
    process.env.AWS_SECRET_ACCESS_KEY ||= 'secret-from-the-environment'
    t.after(() => {
      for (const [name, value] of [
        ['AWS_ACCESS_KEY_ID', saved[0]],
        ['AWS_SECRET_ACCESS_KEY', saved[1]],
      ] as const) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    })
    for (const value of [
      undefined,
      {},
      { accessKeyId: 'AKIA', secretAccessKey: '' },
      { accessKeyId: 42, secretAccessKey: 'x' },
      { accessKeyId: 'AKIA', secretAccessKey: 42 },
    ]) {
      const t = await withCredentials(async () => value as never)
      assert.equal(t.res.status, 500, JSON.stringify(value))
      assert.equal(await t.res.text(), 'Internal Server Error')
      assert.deepEqual(
        t.errors.map((e) => e.code),
        ['MISSING_CONFIG'],
        JSON.stringify(value),
      )
      assert.match(t.errors[0].message, /credentials function/)
      assert.deepEqual(t.counter.ops(), [], 'nothing was signed, with the environment or else')
      assert.equal((await scanAll(t.conn.table)).length, 0)
    }
  })

  test("one throwing TypeError('fetch failed') (STS out of reach): 503 CREDENTIALS with Retry-After", async () => {
    const t = await withCredentials(async () => {
      throw new TypeError('fetch failed')
    })
    assert.equal(t.res.status, 503)
    assert.equal(t.res.headers.get('retry-after'), '1')
    assert.equal(t.errors[0].code, 'CREDENTIALS')
    assert.ok(t.errors[0].cause instanceof TypeError)
    assert.deepEqual(t.counter.ops(), [])
  })

  test('one throwing a plain Error: 500 CREDENTIALS', async () => {
    const t = await withCredentials(() => {
      throw new Error('the role may not be assumed by this principal')
    })
    assert.equal(t.res.status, 500)
    assert.equal(t.res.headers.get('retry-after'), null)
    assert.equal(t.errors[0].code, 'CREDENTIALS')
    assert.match(t.errors[0].message, /may not be assumed/)
  })

  test('one that never settles: 503 within retry.budgetMs', async () => {
    const budgetMs = 500
    const t = await withCredentials(() => new Promise(() => {}), { attempts: 2, budgetMs })
    assert.equal(t.res.status, 503)
    assert.equal(t.errors[0].code, 'CREDENTIALS')
    // A bound, not a speed claim: the request must not wait much past its budget.
    assert.ok(t.ms >= budgetMs * 0.9 && t.ms < budgetMs * 1.6, `answered after ${t.ms} ms`)
  })

  test('a custom fetch that ignores the AbortSignal is cut off by the timeout', async () => {
    const conn = await freshTable('hungfetch')
    const signals: AbortSignal[] = []
    const errors: DynamoSessionError[] = []
    const budgetMs = 900
    const a = app({
      ...conn,
      fetch: (_input, init) => {
        signals.push(init?.signal as AbortSignal)
        return new Promise(() => {}) // never answers, never listens to the signal
      },
      retry: { attempts: 3, timeoutMs: 250, budgetMs },
      onError: (e) => {
        errors.push(e)
      },
    })
    const started = performance.now()
    const res = await post(a, '/change')
    const ms = performance.now() - started
    assert.equal(res.status, 503)
    assert.equal(errors[0].code, 'TIMEOUT')
    assert.equal(signals.length, 3, 'each attempt was cut off and retried')
    assert.ok(
      signals.every((s) => s.aborted),
      'the signal was aborted anyway',
    )
    assert.ok(ms < budgetMs * 1.6, `answered after ${ms} ms`)
  })
})

describe('the environment', () => {
  /** Makes reading the environment fail as Deno does without --allow-env. */
  function refuseEnv(): () => void {
    const deno = (globalThis as { Deno?: { env: { toObject: () => unknown } } }).Deno
    const refusal = () => {
      throw new Error('Requires env access to all, run again with the --allow-env flag')
    }
    if (deno) {
      const original = deno.env.toObject
      deno.env.toObject = refusal
      return () => {
        deno.env.toObject = original
      }
    }
    const descriptor = Object.getOwnPropertyDescriptor(process, 'env') as PropertyDescriptor
    Object.defineProperty(process, 'env', { get: refusal, configurable: true })
    return () => Object.defineProperty(process, 'env', descriptor)
  }

  test('an environment that cannot be read is reported as that, naming the permission', async () => {
    const conn = await freshTable('noenv')
    // No secret option: the middleware looks for SESSION_SECRET in the environment.
    const a = new Hono<SessionEnv<Data>>()
    a.use(dynamoSession<Data>(conn))
    a.get('/', (c) => c.text(String(c.get('session').isNew)))
    const restore = refuseEnv()
    let res: Response
    let text: string
    try {
      const out = await withConsoleError(() => a.request('/'))
      res = out.result
      text = out.all
    } finally {
      restore()
    }
    assert.equal(res.status, 500)
    assert.equal(await res.text(), 'Internal Server Error')
    assert.match(text, /MISSING_CONFIG/)
    assert.match(text, /--allow-env/)
    assert.match(text, /cannot read the environment/)
    assert.doesNotMatch(text, /No AWS region/, 'not mistaken for a missing variable')
  })

  const denoNoEnv =
    'under Deno without --allow-env: the permission is named; with every option given none is needed'
  test(backend === 'memory'
    ? `${denoNoEnv} (skipped on the in-memory backend: a separate Deno process cannot reach it)`
    : denoNoEnv, { timeout: 60_000, skip: backend === 'memory' }, async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url))
    const deno = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url))
    const conn = await freshTable('deno-noenv')
    const run = async (mode: string) => {
      const child = startProcess(
        deno,
        [
          'run',
          '--no-prompt',
          '--allow-net=127.0.0.1',
          'tests/infra/deno-no-env.ts',
          mode,
          JSON.stringify({ ...conn, secret: SECRET }),
        ],
        { cwd: root, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } },
      )
      return { code: await child.exited, out: child.stdout(), err: child.stderr() }
    }
    const refused = await run('env')
    assert.equal(refused.code, 0, refused.err)
    const answer = JSON.parse(refused.out)
    assert.equal(answer.status, 500)
    assert.equal(answer.body, 'Internal Server Error')
    assert.match(answer.logged, /MISSING_CONFIG/)
    assert.match(answer.logged, /--allow-env/)
    assert.doesNotMatch(answer.logged, /No AWS region/)

    const given = await run('options')
    assert.equal(given.code, 0, given.err)
    assert.deepEqual(JSON.parse(given.out), { status: 200, body: 'stored', logged: '' })
  })
})
