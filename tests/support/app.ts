// The one app the suites drive: the middleware on a connection, with the routes the tests use, a
// fetch that records (and can hold) every DynamoDB call, and every error recorded where it
// surfaces: store errors through the `onError` option, errors that reach `app.onError` in
// `thrown`. Nothing expected is printed; a test that wants the library's own console.error line
// passes `onError: undefined` and captures it (tests/support/console.ts).
import { type ErrorHandler, Hono, type MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import {
  type DynamoSessionError,
  type DynamoSessionOptions,
  dynamoSession,
  type SessionEnv,
} from '../../src/index.ts'
import { cookieFrom } from './cookies.ts'
import { type Conn, SECRET } from './dynamodb.ts'
import { type Gate, type Match, type RecordingFetch, recordingFetch } from './fetch.ts'

export type Data = Record<string, unknown>
export type Env = SessionEnv<Data>

/** Middleware options, and what the test app adds around them. */
export interface TestAppOptions extends Partial<DynamoSessionOptions<Data>> {
  /**
   * The fetch beneath the recording one (default: the global fetch): a fault to inject, a hook.
   * The middleware itself always talks through the recording fetch.
   */
  fetch?: typeof fetch
  /** Middleware that runs before the session's (cors(), timing(), a request id…). */
  use?: MiddlewareHandler[]
  /**
   * What `app.onError` does: by default it records the error in `thrown` and sends the error's
   * own response (a DynamoSessionError's) or a 500; `null` leaves Hono's default handler.
   */
  appOnError?: ErrorHandler<Env> | null
  /** Adds routes of the test's own (also possible on `app` directly, before the first request). */
  routes?: (app: Hono<Env>) => void
}

/** The app, the calls it made, the errors it met, and requests to it. */
export interface TestApp extends Omit<RecordingFetch, 'fetch'> {
  app: Hono<Env>
  /** Store errors the `onError` option was given (unless the test replaced or removed it). */
  errors: DynamoSessionError[]
  /** Their codes, in order. */
  codes(): string[]
  /** Errors that reached the recording `app.onError` (thrown handlers; DynamoSessionErrors without `onError`). */
  thrown: unknown[]
  post(path: string, cookie?: string, headers?: Record<string, string>): Promise<Response>
  get(path: string, cookie?: string, headers?: Record<string, string>): Promise<Response>
  /** The session data a cookie loads, or null when it loads no stored session. */
  whoami(cookie: string | undefined): Promise<Data | null>
  /** Makes the handlers of /set, /read and /rmw wait for this first (undefined to stop). */
  pauseWith(fn: (() => Promise<void>) | undefined): void
}

/**
 * One middleware instance (one "server" or "tab") on `conn`, signed with SECRET, with long
 * per-attempt timeouts so that held calls are not cut off. Routes:
 *
 * - `POST /set/:key/:value`, `/delete/:key`, `/increment/:key`, `/flash/:key/:value`, `/touch`
 * - `POST /login` (sets user=ada, then regenerate()), `/regenerate`, `/logout` (destroy())
 * - `POST /rmw`: reads n, waits for the pause, stores n + 1 (read-modify-write)
 * - `POST /throw`: a handler that throws
 * - `GET /read`: `{ id, isNew, data }`; `GET /take/:key`: `{ value }` of takeFlash(key)
 *
 * A test adds routes of its own with `routes`, or on `app` before its first request.
 */
export function testApp(
  conn: Partial<Conn> & Pick<Conn, 'table'>,
  options: TestAppOptions = {},
): TestApp {
  const { fetch: inner, use = [], appOnError, routes, ...middleware } = options
  const recorder = recordingFetch(inner)
  const errors: DynamoSessionError[] = []
  const thrown: unknown[] = []
  let pause: (() => Promise<void>) | undefined
  const paused = async () => {
    if (pause) await pause()
  }
  const app = new Hono<Env>()
  for (const m of use) app.use(m)
  app.use(
    dynamoSession<Data>({
      ...conn,
      secret: SECRET,
      // Held calls must not be cut off by the per-attempt timeout.
      retry: { timeoutMs: 30000, budgetMs: 60000 },
      onError: (e) => {
        errors.push(e)
      },
      ...middleware,
      fetch: recorder.fetch,
    }),
  )
  if (appOnError !== null) {
    app.onError(
      appOnError ??
        ((e, c) => {
          thrown.push(e)
          // As documented: a DynamoSessionError carries its own generic response.
          return e instanceof HTTPException ? e.getResponse() : c.text('the handler failed', 500)
        }),
    )
  }
  routes?.(app)
  app.post('/set/:key/:value', async (c) => {
    await paused()
    c.get('session').set(c.req.param('key'), c.req.param('value'))
    c.header('x-handler', 'ran')
    return c.text('handler ok')
  })
  app.post('/delete/:key', (c) => {
    c.get('session').delete(c.req.param('key'))
    return c.text('ok')
  })
  app.post('/increment/:key', (c) => {
    c.get('session').increment(c.req.param('key'))
    return c.text('ok')
  })
  app.post('/flash/:key/:value', (c) => {
    c.get('session').flash(c.req.param('key'), c.req.param('value'))
    return c.text('ok')
  })
  app.get('/take/:key', (c) =>
    c.json({ value: c.get('session').takeFlash(c.req.param('key')) ?? null }),
  )
  app.post('/touch', (c) => {
    c.get('session').touch()
    return c.text('ok')
  })
  app.post('/login', (c) => {
    c.get('session').set('user', 'ada')
    c.get('session').regenerate()
    return c.text('welcome')
  })
  app.post('/regenerate', (c) => {
    c.get('session').regenerate()
    return c.json({ id: c.get('session').id })
  })
  app.post('/logout', (c) => {
    c.get('session').destroy()
    return c.text('bye')
  })
  app.post('/rmw', async (c) => {
    const session = c.get('session')
    const n = ((session.get('n') as number | undefined) ?? 0) + 1
    await paused()
    session.set('n', n)
    return c.json({ n })
  })
  app.post('/throw', () => {
    throw new Error('the handler failed')
  })
  app.get('/read', async (c) => {
    await paused()
    const s = c.get('session')
    return c.json({ id: s.id, isNew: s.isNew, data: s.data })
  })
  const send =
    (method: string) =>
    async (path: string, cookie?: string, headers: Record<string, string> = {}) =>
      app.request(path, { method, headers: cookie ? { ...headers, cookie } : headers })
  const get = send('GET')
  return {
    app,
    calls: recorder.calls,
    ops: recorder.ops,
    reset: recorder.reset,
    hold: recorder.hold,
    failEvery: recorder.failEvery,
    errors,
    codes: () => errors.map((e) => e.code),
    thrown,
    post: send('POST'),
    get,
    async whoami(cookie) {
      const body = (await (await get('/read', cookie)).json()) as { isNew: boolean; data: Data }
      return body.isNew ? null : body.data
    },
    pauseWith(fn) {
      pause = fn
    },
  }
}

/**
 * Sends `request` and, each time one of the next `times` calls of `a` that `match` picks is held,
 * runs `meanwhile(i)` (another request changing the session, say) before letting it go.
 */
export async function whileHeld(
  a: TestApp,
  match: Match,
  request: () => Promise<Response>,
  meanwhile: (i: number) => Promise<void>,
  times = 1,
): Promise<Response> {
  const gates = Array.from({ length: times }, () => a.hold(match))
  const response = request()
  for (const [i, gate] of gates.entries()) {
    await gate.reached
    await meanwhile(i)
    gate.release()
  }
  return response
}

/** A session with a user in it (user=ada), and the cookie that names it. */
export async function loggedIn(a: TestApp): Promise<string> {
  const cookie = cookieFrom(await a.post('/set/user/ada'))
  if (!cookie) throw new Error('the first write set no cookie')
  return cookie
}

/**
 * Sends a POST whose first call matching `match` is lost on the wire before DynamoDB sees it:
 * the client retries, and the lost attempt stays in flight. Returns the answer, and the lost
 * attempt to `deliver()` later, a late duplicate.
 */
export async function postLosingFirstAttempt(
  a: TestApp,
  match: Match,
  path: string,
  cookie: string,
): Promise<{ res: Response; late: Gate }> {
  const late = a.hold(match)
  const sent = a.post(path, cookie)
  await late.reached
  late.lose()
  return { res: await sent, late }
}

/**
 * An execution context as Workers give one: work handed to `waitUntil` is kept, and `settled()`
 * waits for all of it. Pass `ctx` as the fourth argument of `app.request()`.
 */
export function executionContext(): {
  ctx: { waitUntil(p: Promise<unknown>): void; passThroughOnException(): void; props: object }
  settled(): Promise<unknown>
} {
  const work: Promise<unknown>[] = []
  const ctx = {
    waitUntil: (p: Promise<unknown>) => void work.push(p),
    passThroughOnException: () => {},
    props: {},
  }
  return { ctx, settled: () => Promise.allSettled(work) }
}
