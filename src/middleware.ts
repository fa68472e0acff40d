/**
 * @module The `dynamoSession()` middleware: the Hono wiring of a request. It loads the session
 * before the handler, saves what changed after it, sets the cookie only once the write succeeded,
 * and answers store failures with 503, 409 or 500 instead of a false success.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { type ClientConfig, createClient, type Send } from './client.ts'
import {
  budgeted,
  type ConnectionOptions,
  callCredentials,
  clientCache,
  type EnvRecord,
  fromEnv,
  type RequestTable,
  resolveConnection,
} from './connection.ts'
import { CookieSigner, newId, serializeCookie } from './cookie.ts'
import { asSessionError, DynamoSessionError } from './errors.ts'
import { type Loaded, loadSession } from './load.ts'
import { type JsonValue, whyNotJson } from './marshall.ts'
import type { DynamoSessionOptions, TableRouter } from './options.ts'
import type { RequestContext } from './request.ts'
import { type CookieChange, expiryAfterLoad, plan } from './rules.ts'
import { saveSession } from './save.ts'
import { type JsonCompatible, type Session, SessionState } from './session.ts'
import { checkSecrets, type Settings, settingsOf } from './settings.ts'
import { giveBack } from './store/lease.ts'
import { tokenKeepMs } from './store/tokens.ts'

/**
 * The Hono environment the middleware provides: `c.get('session')`, or `c.get(Key)` with the
 * `contextKey` option. `Data` must hold JSON values only (a `Date`, `Map`, function or `bigint`
 * is a compile error); `Flash` types `flash`/`takeFlash`.
 *
 * @example
 * ```ts
 * type Data = { userId: string; visits: number }
 * const app = new Hono<SessionEnv<Data>>()
 * const admin = new Hono<SessionEnv<{ role: string }, 'admin'>>() // c.get('admin')
 * ```
 */
export type SessionEnv<
  Data extends JsonCompatible<Data> = Record<string, unknown>,
  Key extends string = 'session',
  Flash extends JsonCompatible<Flash> = Record<string, JsonValue>,
> = {
  Variables: { [K in Key]: Session<Data, Flash> }
}

/** Transient failures of one code are logged at most this often. */
const LOG_EVERY_MS = 60_000
/** Distinct messages logged in a minute at most: clients that vary them cannot flood the log. */
const LOG_MESSAGES = 32

/**
 * Server-side sessions in DynamoDB. Loads the session named by the cookie before the handler
 * (at most one GetItem), writes only what the handler changed after it (at most one UpdateItem),
 * and sends the response only once the write has succeeded.
 *
 * @typeParam Data the session's keys and their JSON types, as in the app's `SessionEnv<Data>`;
 *   without it, the `schema`'s output, else `Record<string, unknown>`
 * @typeParam Key the `contextKey` (default `'session'`): `c.get(Key)`
 * @typeParam Flash the keys and JSON types of `flash`/`takeFlash`
 * @param options table, region, endpoint and credentials fall back to the environment; see
 *   `DynamoSessionOptions` for the cookie, `secret`, `maxAge` (86400), `absoluteMaxAge`
 *   (604800), `touchAfter`, `consistentRead`, `retry`, `schema`, `locking`, `contextKey` and
 *   `onError`.
 * @throws DynamoSessionError with code INVALID_OPTIONS, naming the option, for a bad option.
 * @example
 * ```ts
 * const app = new Hono<SessionEnv<{ visits: number }>>()
 * app.use(dynamoSession({ table: 'sessions', secret: process.env.SESSION_SECRET }))
 * app.get('/', (c) => {
 *   c.get('session').increment('visits')
 *   return c.text('welcome back')
 * })
 * ```
 */
export function dynamoSession<
  Data extends JsonCompatible<Data> = Record<string, unknown>,
  Key extends string = 'session',
  Flash extends JsonCompatible<Flash> = Record<string, JsonValue>,
>(options?: DynamoSessionOptions<Data, Key>): MiddlewareHandler<SessionEnv<Data, Key, Flash>> {
  return sessionMiddleware<Data, Key, Flash>(options, createClient)
}

/** What one middleware instance keeps between requests. */
interface Instance {
  s: Settings
  clients: ReturnType<typeof clientCache>
  /** The signer of the `secret` option, or of SESSION_SECRET as last read. */
  signer: { secret?: string; signer: CookieSigner } | undefined
  /** When each error code was last logged. */
  logged: Map<string, number>
}

/** The process's environment (Node, Bun, Deno), or `{}` on Workers. */
const processEnv = (): EnvRecord =>
  (globalThis as { process?: { env?: EnvRecord } }).process?.env ?? {}

/** SESSION_SECRET from the process's environment at start, or nothing where it cannot be read. */
function startEnv(): EnvRecord {
  try {
    return { SESSION_SECRET: processEnv().SESSION_SECRET }
  } catch {
    return {}
  }
}

/**
 * The environment, read only when an option is left to it: the Workers bindings (`c.env`) over
 * the process's variables (Node, Bun, Deno).
 */
function readEnv(i: Instance, c: Context): EnvRecord {
  const { s } = i
  if (s.secrets && s.region && s.table && s.endpoint && s.credentials) return {}
  try {
    return { ...processEnv(), ...(typeof c.env === 'object' ? (c.env as EnvRecord) : {}) }
  } catch (cause) {
    throw new DynamoSessionError(
      'MISSING_CONFIG',
      `cannot read the environment (${(cause as Error)?.message}): grant Deno --allow-env or pass every option`,
      { cause, option: 'env' },
    )
  }
}

/** The cookie signer: the `secret` option's, else SESSION_SECRET's (checked when it changes). */
function signerOf(i: Instance, vars: EnvRecord): CookieSigner | undefined {
  if (i.s.secrets) return i.signer?.signer
  const secret = fromEnv('secret', vars)?.value
  if (!secret) return undefined
  if (i.signer?.secret !== secret) {
    checkSecrets(secret, 'SESSION_SECRET')
    i.signer = { secret, signer: new CookieSigner([secret]) }
  }
  return i.signer.signer
}

/**
 * Reports a store error to `onError` (with what it returns), or logs it in one line, its message
 * naming the fix: a transient one at most once per code per minute, any other at most once per
 * message per minute (a misconfiguration fails every request alike), and at most `LOG_MESSAGES`
 * distinct messages a minute.
 */
function report(i: Instance, c: Context, e: DynamoSessionError): unknown {
  if (i.s.onError) return i.s.onError(e, c)
  const now = Date.now()
  const line = `DynamoSessionError ${e.code}: ${e.message}`
  const key = e.transient ? e.code : line
  const last = i.logged.get(key)
  if (last !== undefined && now - last < LOG_EVERY_MS) return
  // A message can carry what a client sent (a size, a key): distinct ones are bounded a minute.
  if (last === undefined && i.logged.size >= LOG_MESSAGES) {
    for (const [k, at] of i.logged) if (now - at >= LOG_EVERY_MS) i.logged.delete(k)
    if (i.logged.size >= LOG_MESSAGES) return
  }
  i.logged.set(key, now)
  console.error(line)
}

/**
 * The request context: the table is connected on first use, with the request's time budget;
 * with `globalTable()`, through its route, which places each call in a region.
 */
function contextOf(i: Instance, c: Context, vars: EnvRecord, now: number): RequestContext {
  const { s } = i
  let table: Promise<RequestTable> | undefined
  const connect = async (): Promise<RequestTable> => {
    const started = Date.now()
    const option = s.credentials
    const credentials =
      typeof option === 'function' ? await callCredentials(option, c, s.retry.budgetMs) : option
    // globalTable(): its name and first region stand in for the table and region options.
    const t = s.table as TableRouter | undefined
    const conn = resolveConnection({ ...s, ...t?.conn } as ConnectionOptions, credentials, vars)
    const send =
      t?.route?.(c, (o) => i.clients({ ...conn, ...o }, s.retry), s, r.signer) ??
      i.clients(conn, s.retry)
    return budgeted({ name: conn.table, send }, s.retry.budgetMs, started)
  }
  const r: RequestContext = {
    s,
    now,
    signer: signerOf(i, vars),
    keepMs: tokenKeepMs(s.retry.budgetMs),
    table: () => {
      table ??= connect()
      return table
    },
    report: async (e) => {
      await report(i, c, e)
    },
    background: (work) => {
      try {
        c.executionCtx.waitUntil(work)
      } catch {
        // No execution context (Node, Bun, Deno): the work goes on by itself.
      }
    },
    device: () => describe(s, c),
  }
  return r
}

/** What `describe` (else the User-Agent, cut) says of the browser; at most 1 KB of JSON. */
function describe(s: Settings, c: Context): JsonValue | undefined {
  if (!s.describe) return c.req.header('user-agent')?.slice(0, 256)
  const device = s.describe(c)
  const why = whyNotJson(device) ?? (JSON.stringify(device).length > 1024 && 'it is over 1 KB')
  if (why) throw new DynamoSessionError('INVALID_DATA', `describe(c) returned no device: ${why}`)
  return device
}

/** The Set-Cookie headers each request's saves committed: a later failure keeps them. */
const committed = new WeakMap<Context, string[]>()

/**
 * Fails the request. With `onError`, its Response or the error's generic one is sent; without,
 * the error goes on to `app.onError` carrying that response. Either way the handler's response
 * is dropped, and the headers outer middleware set before the handler are kept.
 */
async function fail(
  i: Instance,
  c: Context,
  error: unknown,
  outer: [string, string][],
): Promise<void> {
  const e = asSessionError(error)
  const custom = await report(i, c, e)
  c.res = undefined
  c.res = custom instanceof Response ? custom : e.getResponse()
  for (const [k, v] of outer) c.header(k, v, { append: k === 'set-cookie' })
  // Another instance's committed write keeps its cookie (a sign-in in an inner middleware).
  for (const v of committed.get(c) ?? []) {
    if (!outer.some(([k, o]) => k === 'set-cookie' && o === v))
      c.header('Set-Cookie', v, { append: true })
  }
  if (!i.s.onError) throw e
}

/** Sends the cookie a save called for. */
async function sendCookie(
  c: Context,
  r: RequestContext,
  session: SessionState<object, object>,
  cookie: CookieChange,
): Promise<void> {
  const { s, now, signer } = r
  let header: string
  if (cookie === 'clear') header = serializeCookie('', 0, s.cookie)
  else {
    const value = signer ? await signer.sign(cookie.id) : cookie.id
    header = serializeCookie(value, cookie.expires - now, s.cookie)
    session.expiresAt = new Date(cookie.expires * 1000)
  }
  c.header('Set-Cookie', header, { append: true })
  committed.set(c, [...(committed.get(c) ?? []), header])
}

/**
 * The middleware over any DynamoDB transport. `dynamoSession` passes the aws4fetch client; the
 * benchmarks pass one built on the AWS SDK to compare the two with everything else equal.
 */
export function sessionMiddleware<
  Data extends JsonCompatible<Data> = Record<string, unknown>,
  Key extends string = 'session',
  Flash extends JsonCompatible<Flash> = Record<string, JsonValue>,
>(
  options: DynamoSessionOptions<Data, Key> | undefined,
  makeClient: (config: ClientConfig) => Send,
): MiddlewareHandler<SessionEnv<Data, Key, Flash>> {
  const s = settingsOf(options as DynamoSessionOptions)
  const i: Instance = {
    s,
    clients: clientCache(makeClient),
    signer: s.secrets && { signer: new CookieSigner(s.secrets) },
    logged: new Map(),
  }
  // A SESSION_SECRET already in the process's environment is checked now: a bad one stops the
  // app at start. One from a Worker's env is checked on its first request.
  if (!s.secrets) signerOf(i, startEnv())

  return async function dynamoSession(c, next) {
    // hono/timing's metrics, when the app uses timing(): the phases show in Server-Timing.
    const metric = (c.get as (key: string) => { headers: string[] } | undefined)('metric')
    const time = (name: string, since: number) => {
      metric?.headers.push(`${name};dur=${(performance.now() - since).toFixed(1)}`)
    }
    const started = performance.now()
    const outer = [...c.res.headers]
    const now = Math.floor(Date.now() / 1000)
    let r: RequestContext
    let loaded: Loaded
    try {
      r = contextOf(i, c, readEnv(i, c), now)
      loaded = await loadSession(r, c.req.header('cookie'))
    } catch (error) {
      return fail(i, c, error, outer)
    }
    time('session-load', started)

    const { found, lease } = loaded
    const session =
      found.state === 'live'
        ? new SessionState<Data, Flash>(
            found.id,
            found.stored,
            new Date(expiryAfterLoad(found.stored, now, s) * 1000),
            loaded.view,
          )
        : new SessionState<Data, Flash>(newId(), null, null)
    c.set(s.contextKey as never, session as never)

    /** Gives back a lease no write released. */
    const release = () => giveBack(lease, r.table, r.background)
    try {
      await next()
    } catch (error) {
      // A handler that threw saves nothing: the session is sealed and its lease given back.
      session.seal()
      await release()
      throw error
    }
    session.seal()

    const saveStarted = performance.now()
    try {
      // A handler that threw saves nothing.
      if (!c.error) {
        let changes: ReturnType<typeof session.changes>
        try {
          changes = session.changes()
        } catch (error) {
          throw asSessionError(error, 'INVALID_DATA')
        }
        const p = plan(changes, found, session.id, now, s, r.device)
        const cookie = await saveSession(r, p, changes, lease)
        if (cookie) await sendCookie(c, r, session as never, cookie)
      }
    } catch (error) {
      await fail(i, c, error, outer)
    } finally {
      await release()
      time('session-save', saveStarted)
    }
  }
}
