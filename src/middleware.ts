/**
 * @module The `dynamoSession()` middleware: loads the session before the handler, writes what
 * changed after it, and answers store failures with 503, 409 or 500 instead of a false success.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { env } from 'hono/adapter'
import { type ClientConfig, type Credentials, createClient, type Send, sleep } from './client.ts'
import {
  CookieSigner,
  isWellFormedId,
  newId,
  readCookies,
  serializeCookie,
  storedKey,
} from './cookie.ts'
import { DynamoSessionError } from './errors.ts'
import type { JsonValue } from './marshall.ts'
import {
  checkSecrets,
  type DynamoSessionOptions,
  type EnvRecord,
  resolveConnection,
  type Settings,
  settingsOf,
} from './options.ts'
import {
  applyChanges,
  type JsonCompatible,
  type Session,
  type SessionChanges,
  SessionState,
  type StoredSession,
} from './session.ts'
import {
  contended,
  deleteItem,
  endItem,
  getItem,
  gone,
  parseItem,
  putItem,
  releaseLease,
  type SessionTable,
  takeLease,
  updateItem,
} from './store.ts'

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

/** Clients kept per configuration; more than this (rotating credentials) drops the oldest. */
const MAX_CLIENTS = 16
/** Attempts of `regenerate()` when other requests keep writing the session meanwhile. */
const REGENERATE_ATTEMPTS = 4
/** Transient failures of one code are logged at most this often. */
const LOG_EVERY_MS = 60_000

const seconds = () => Math.floor(Date.now() / 1000)

/** The timing rules of the save phase, from the settings. */
export type Timing = Pick<Settings, 'maxAge' | 'absoluteMaxAge' | 'touchAfter'>

/** The expiry a session created at `created` gets now: the idle timeout, capped by the absolute one. */
export const expiryFor = (created: number, now: number, t: Timing): number =>
  Math.min(now + t.maxAge, created + t.absoluteMaxAge)

/** True when an unchanged session's expiry is due to move forward on this request. */
export const touchDue = (stored: StoredSession, now: number, t: Timing): boolean =>
  expiryFor(stored.created, now, t) - stored.expires >= Math.max(1, t.touchAfter)

/** What the save phase does, decided from the changes alone (no I/O). */
export type Plan =
  | { op: 'none' | 'refuse' | 'regenerate' }
  | { op: 'put'; data: StoredSession['data']; expires: number }
  /** With `data`, the request wrote to the new session after `destroy()`: it is stored too. */
  | { op: 'destroy'; data?: StoredSession['data']; expires?: number }
  | { op: 'update'; expires: number | undefined; cookie: boolean }

/**
 * The save rules. A change to a session another request ended is refused; a new session is
 * written only when it holds something; a stored one gets its changes with a new expiry, and an
 * unchanged one only a due touch or the clean-up of flash values it read.
 */
export function plan(
  changes: SessionChanges,
  stored: StoredSession | null,
  ended: boolean,
  now: number,
  t: Timing,
): Plan {
  // What a new session holds (a write starts one only when it holds something): only asked for
  // where a new session starts, not on every request.
  const fresh = () => {
    const data = applyChanges({}, changes)
    return Object.keys(data).length + Object.keys(changes.flash).length
      ? { data, expires: expiryFor(now, now, t) }
      : undefined
  }
  if (!stored) {
    if (ended && changes.changed) return { op: 'refuse' }
    const written = fresh()
    return written ? { op: 'put', ...written } : { op: 'none' }
  }
  if (changes.end === 'destroy') return { op: 'destroy', ...fresh() }
  if (changes.end) return { op: changes.end }
  const next = expiryFor(stored.created, now, t)
  const move =
    changes.changed || touchDue(stored, now, t) || (changes.touch && next > stored.expires)
  if (!move && !Object.keys(stored.flash).length) return { op: 'none' }
  // Never backwards: another instance may have moved it further already.
  const moved = Math.max(next, stored.expires)
  return {
    op: 'update',
    expires: move ? moved : undefined,
    cookie: move && moved !== stored.expires,
  }
}

/** What the load phase found. */
interface Loaded {
  stored: StoredSession | null
  /** The id and stored key of the loaded session. */
  id?: string
  key?: string
  /** The lease this request holds, with locking. */
  lease?: { key: string; token: string }
  /** A cookie named a session that another request ended. */
  ended: boolean
}

const asSessionError = (error: unknown): DynamoSessionError =>
  error instanceof DynamoSessionError
    ? error
    : new DynamoSessionError(
        error instanceof TypeError
          ? /not a number/.test(error.message)
            ? 'NOT_A_NUMBER'
            : 'INVALID_DATA'
          : 'DYNAMODB',
        (error as Error)?.message ?? String(error),
        { cause: error },
      )

/** Rejects after `ms`, whatever the promise does. */
function within<T>(promise: T | Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

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
  const clients = new Map<string, Send>()
  const fixedSigner = s.secrets ? new CookieSigner(s.secrets) : undefined
  let envSigner: { secret: string; signer: CookieSigner } | undefined
  // The environment is read only when an option is left to it.
  const needsEnv = !s.secrets || !s.region || !s.table || !s.endpoint || !s.credentials
  const logged = new Map<string, number>()
  const budget = s.retry.budgetMs
  // Write tokens are kept while a retry of their write may still come (the retry budget), with
  // room for clocks that differ between instances.
  const keepTokens = Math.ceil(budget / 1000) + 30

  function readEnv(c: Context): EnvRecord {
    if (!needsEnv) return {}
    try {
      return (env(c) as EnvRecord | undefined) ?? {}
    } catch (cause) {
      throw new DynamoSessionError(
        'MISSING_CONFIG',
        `cannot read the environment (${(cause as Error)?.message}): grant Deno --allow-env or pass every option`,
        { cause },
      )
    }
  }

  function signerFor(vars: EnvRecord): CookieSigner | undefined {
    if (fixedSigner) return fixedSigner
    const secret = vars.SESSION_SECRET
    if (!secret) return undefined
    if (envSigner?.secret !== secret) {
      checkSecrets(secret, 'SESSION_SECRET')
      envSigner = { secret, signer: new CookieSigner([secret]) }
    }
    return envSigner.signer
  }

  /** The credentials option's value for this request, checked, within the budget. */
  async function credentialsOf(c: Context, ms: number): Promise<Credentials | undefined> {
    const option = s.credentials
    if (typeof option !== 'function') return option
    let got: Credentials
    try {
      got = await within(option(c), ms, 'the credentials function')
    } catch (cause) {
      const message = (cause as Error)?.message ?? String(cause)
      throw new DynamoSessionError('CREDENTIALS', `credentials function failed: ${message}`, {
        cause,
        // A metadata service or STS out of reach is worth a retry later.
        transient:
          cause instanceof TypeError || /settle|fetch|network|ECONN|timed? ?out/i.test(message),
      })
    }
    if (![got?.accessKeyId, got?.secretAccessKey].every((v) => v && typeof v === 'string')) {
      throw new DynamoSessionError(
        'MISSING_CONFIG',
        'credentials function returned no { accessKeyId, secretAccessKey }',
      )
    }
    return got
  }

  /** The table for this request, with one DynamoDB time budget shared by all its calls. */
  async function connect(c: Context, vars: EnvRecord): Promise<RequestTable> {
    const started = Date.now()
    const conn = resolveConnection(s, await credentialsOf(c, budget), vars)
    const cacheKey = `${conn.region}\n${conn.endpoint}\n${conn.credentials.accessKeyId}\n${conn.credentials.secretAccessKey}\n${conn.credentials.sessionToken ?? ''}`
    let send = clients.get(cacheKey)
    if (!send) {
      send = makeClient({ ...conn, retry: s.retry })
      clients.set(cacheKey, send)
      if (clients.size > MAX_CLIENTS) clients.delete(clients.keys().next().value as string)
    }
    const raw = send
    let left = budget - (Date.now() - started)
    return {
      name: conn.table,
      raw: { name: conn.table, send: raw },
      left: () => left,
      async send(op, input) {
        const t = Date.now()
        try {
          return await raw(op, input, Math.max(left, 1))
        } finally {
          left -= Date.now() - t
        }
      },
    }
  }

  /** Logs a store error: transient ones at most once per code per minute; a 409 in one line. */
  function log(e: DynamoSessionError): void {
    const now = Date.now()
    if (e.transient && now - (logged.get(e.code) ?? -LOG_EVERY_MS) < LOG_EVERY_MS) return
    logged.set(e.code, now)
    console.error(e.status === 409 ? `DynamoSessionError ${e.code}: ${e.message}` : e)
  }

  /** Reports an error that does not fail the request (unreadable data, a failed touch). */
  async function report(c: Context, e: DynamoSessionError): Promise<void> {
    if (s.onError) await s.onError(e, c)
    else log(e)
  }

  /**
   * Fails the request. With `onError`, its Response or the error's generic one is sent; without,
   * the error goes on to `app.onError` carrying that response. Either way the handler's response
   * is dropped, and the headers outer middleware set before the handler are kept.
   */
  async function fail(c: Context, error: unknown, outer: [string, string][]): Promise<void> {
    const e = asSessionError(error)
    const custom = s.onError ? await s.onError(e, c) : log(e)
    c.res = undefined
    c.res = custom instanceof Response ? custom : e.getResponse()
    for (const [k, v] of outer) c.header(k, v, { append: k === 'set-cookie' })
    if (!s.onError) throw e
  }

  /** Loads one stored key, taking the lease first when locking is on. */
  async function loadKey(
    table: RequestTable,
    key: string,
  ): Promise<{ item?: Record<string, unknown>; lease?: string }> {
    if (!s.locking) return { item: await getItem(table, key, s.consistentRead) }
    const { leaseMs, waitMs } = s.locking
    const token = newId()
    const deadline = Date.now() + waitMs
    for (let attempt = 1; ; attempt++) {
      let got: Awaited<ReturnType<typeof takeLease>>
      try {
        got = await takeLease(table, key, token, leaseMs)
      } catch (error) {
        // An attempt may have taken the lease before its reply was lost: give it back.
        void releaseLease(table.raw, key, token).catch(() => {})
        throw error
      }
      if (got !== 'held')
        return got && 'data' in got && !got.end ? { item: got, lease: token } : { item: got }
      // Equal jitter: never a tight loop, and waiters spread out.
      const step = Math.min(200, 10 * 2 ** attempt)
      const delay = step / 2 + (Math.random() * step) / 2
      if (Date.now() + delay > deadline) {
        throw new DynamoSessionError(
          'LOCK_TIMEOUT',
          `lease held past locking.waitMs (${waitMs} ms)`,
        )
      }
      await sleep(delay)
    }
  }

  /**
   * The load phase: every session cookie is a candidate, in order; the first that verifies and
   * names a live session wins. Unreadable or schema-failing data is no session (reported).
   */
  async function load(
    c: Context,
    tableOf: () => Promise<RequestTable>,
    signer: CookieSigner | undefined,
    now: number,
  ): Promise<Loaded> {
    const loaded: Loaded = { stored: null, ended: false }
    for (const raw of readCookies(c.req.header('cookie'), s.cookie.name)) {
      const id = signer ? await signer.verify(raw) : isWellFormedId(raw) ? raw : null
      if (!id) continue
      const key = await storedKey(id)
      const table = await tableOf()
      const { item, lease } = await loadKey(table, key)
      let found: StoredSession | 'ended' | undefined
      try {
        found = parseItem(item, now)
        if (found && found !== 'ended') {
          if (found.created + s.absoluteMaxAge <= now) found = undefined
          else if (s.schema) found = await validate(found)
        }
      } catch (error) {
        found = undefined
        await report(c, asSessionError(error))
      }
      if (found === 'ended') loaded.ended = true
      else if (found) {
        return {
          stored: found,
          id,
          key,
          lease: lease ? { key, token: lease } : undefined,
          ended: false,
        }
      }
      // Not a live session: its lease goes back at once.
      if (lease) await releaseLease(table, key, lease)
    }
    return loaded
  }

  /** Runs the schema; handlers see its output (`view`), what is stored stays as it was. */
  async function validate(stored: StoredSession): Promise<StoredSession & { view?: unknown }> {
    const result = await (s.schema as NonNullable<Settings['schema']>)['~standard'].validate(
      structuredClone(stored.data),
    )
    if (result.issues) {
      throw new DynamoSessionError(
        'INVALID_DATA',
        `stored data fails the schema: ${result.issues.map((i) => i.message).join('; ')}`,
      )
    }
    return { ...stored, view: result.value }
  }

  /** The save phase: carries out the plan, then sets or clears the cookie it calls for. */
  async function save(
    c: Context,
    session: SessionState<Data, Flash>,
    loaded: Loaded,
    table: () => Promise<RequestTable>,
    signer: CookieSigner | undefined,
    now: number,
  ): Promise<void> {
    const changes = session.changes()
    const p = plan(changes, loaded.stored, loaded.ended, now, s)
    const setCookie = async (id: string, expires: number) => {
      const value = signer ? await signer.sign(id) : id
      c.header('Set-Cookie', serializeCookie(value, expires - now, s.cookie), { append: true })
      session.expiresAt = new Date(expires * 1000)
    }
    const stored = loaded.stored as StoredSession
    const key = loaded.key as string
    const token = newId().slice(0, 12)
    if (p.op === 'refuse') throw gone()
    if (p.op === 'destroy') {
      await endItem(await table(), key, token, now, stored, false)
      loaded.lease = undefined
      // Written to after the destroy (a goodbye flash): a new session takes the cookie's place.
      if (!p.data)
        return void c.header('Set-Cookie', serializeCookie('', 0, s.cookie), { append: true })
    }
    if (p.op === 'put' || p.op === 'destroy') {
      const expires = p.expires as number
      await putItem(await table(), await storedKey(session.id), {
        data: p.data as StoredSession['data'],
        flash: changes.flash,
        expires,
        created: now,
      })
      return setCookie(session.id, expires)
    }
    if (p.op === 'regenerate') {
      await regenerate(await table(), session, changes, stored, key, token, now)
      loaded.lease = undefined
      return setCookie(session.id, expiryFor(stored.created, now, s))
    }
    if (p.op !== 'update') return
    try {
      await updateItem(await table(), key, {
        changes,
        stored,
        expires: p.expires,
        now,
        // A lease-checked write is recognised on a retry by its token, even a touch.
        token: changes.changed || loaded.lease ? token : undefined,
        staleBefore: now - keepTokens,
        lease: loaded.lease?.token,
      })
      loaded.lease = undefined
    } catch (error) {
      // A touch or a flash clean-up that fails loses nothing the handler did.
      if (changes.changed) throw error
      const e = asSessionError(error)
      if (e.code !== 'SESSION_GONE') await report(c, e)
      return
    }
    if (p.cookie && p.expires) await setCookie(loaded.id as string, p.expires)
  }

  /**
   * Moves the session to the new id: the new item, then the old one ended under the version
   * read. When another request wrote meanwhile, its stored changes are taken in and this
   * request's replayed on them; when the old session ended meanwhile, nothing is left behind.
   */
  async function regenerate(
    table: SessionTable,
    session: SessionState<Data, Flash>,
    changes: SessionChanges,
    stored: StoredSession,
    oldKey: string,
    token: string,
    now: number,
  ): Promise<void> {
    const newKey = await storedKey(session.id)
    let base = stored
    for (let attempt = 0; attempt < REGENERATE_ATTEMPTS; attempt++) {
      await putItem(
        table,
        newKey,
        {
          data: applyChanges(base.data, changes),
          flash: changes.flash,
          expires: expiryFor(stored.created, now, s),
          // The creation time moves along, so absoluteMaxAge cannot be escaped by a login.
          created: stored.created,
        },
        attempt > 0,
      )
      let ended: true | StoredSession
      try {
        ended = await endItem(table, oldKey, token, now, base, true)
      } catch (error) {
        await deleteItem(table, newKey).catch(() => {})
        throw error
      }
      if (ended === true) return
      base = ended
    }
    await deleteItem(table, newKey).catch(() => {})
    throw contended()
  }

  return async function dynamoSession(c, next) {
    // hono/timing's metrics, when the app uses timing(): the phases show in Server-Timing.
    const metric = (c.get as (key: string) => unknown)('metric') as
      | { headers: string[] }
      | undefined
    const time = (name: string, since: number) => {
      metric?.headers.push(`${name};dur=${(performance.now() - since).toFixed(1)}`)
    }
    const started = performance.now()
    const outer = [...c.res.headers]
    const now = seconds()
    let loaded: Loaded = { stored: null, ended: false }
    let table: Promise<RequestTable> | undefined
    let signer: CookieSigner | undefined
    let vars: EnvRecord = {}
    const tableOf = () => {
      table ??= connect(c, vars)
      return table
    }
    try {
      vars = readEnv(c)
      signer = signerFor(vars)
      loaded = await load(c, tableOf, signer, now)
    } catch (error) {
      return fail(c, error, outer)
    }
    time('session-load', started)

    const { stored } = loaded
    const session = new SessionState<Data, Flash>(
      stored ? (loaded.id as string) : newId(),
      stored,
      stored
        ? new Date(
            (touchDue(stored, now, s) ? expiryFor(stored.created, now, s) : stored.expires) * 1000,
          )
        : null,
      (stored as { view?: Record<string, unknown> } | null)?.view,
    )
    c.set(s.contextKey as never, session as never)

    /** Gives back a lease no write released: within the budget left, else in the background. */
    const release = async () => {
      const held = loaded.lease
      const t = await table
      loaded.lease = undefined
      if (!held || !t) return
      const done = releaseLease(t.raw, held.key, held.token).catch(() => {})
      if (t.left() > 0) await within(done, t.left(), 'release').catch(() => {})
    }
    let threw = true
    try {
      await next()
      threw = false
    } finally {
      session.seal()
      if (threw) await release()
    }

    const saveStarted = performance.now()
    try {
      // A handler that threw saves nothing.
      if (!c.error) await save(c, session, loaded, tableOf, signer, now)
    } catch (error) {
      await fail(c, error, outer)
    } finally {
      await release()
      time('session-save', saveStarted)
    }
  }
}

/** The table of one request: DynamoDB calls share one time budget; `raw` is outside it. */
interface RequestTable extends SessionTable {
  raw: SessionTable
  left(): number
}
