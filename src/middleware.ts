/**
 * @module The `dynamoSession()` middleware: loads the session before the handler, writes what
 * changed after it, and answers store failures with 503 or 500 instead of a false success.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { env } from 'hono/adapter'
import { type ClientConfig, createClient, type Send, sleep } from './client.ts'
import {
  CookieSigner,
  isWellFormedId,
  newId,
  readCookie,
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
  settingsOf,
} from './options.ts'
import { type JsonCompatible, type Session, SessionState, type StoredSession } from './session.ts'
import {
  deleteItem,
  getItem,
  type Item,
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
const RETRY_AFTER_SECONDS = '1'

const seconds = () => Math.floor(Date.now() / 1000)

/** The environment, or nothing where the runtime refuses it (Deno without --allow-env). */
function readEnv(c: Context): EnvRecord {
  try {
    return (env(c) as EnvRecord | undefined) ?? {}
  } catch {
    return {}
  }
}

/** The response for a store error when `onError` gives none. */
function errorResponse(error: DynamoSessionError): Response {
  if (error.transient || error.code === 'LOCK_LOST') {
    return new Response('Service Unavailable: the session store is busy, please retry', {
      status: 503,
      headers: { 'Retry-After': RETRY_AFTER_SECONDS, 'Content-Type': 'text/plain; charset=UTF-8' },
    })
  }
  if (error.code === 'SESSION_GONE') {
    return new Response(`Conflict: ${error.message}`, {
      status: 409,
      headers: { 'Content-Type': 'text/plain; charset=UTF-8' },
    })
  }
  return new Response(`Internal Server Error: ${error.message}`, {
    status: 500,
    headers: { 'Content-Type': 'text/plain; charset=UTF-8' },
  })
}

const asSessionError = (error: unknown): DynamoSessionError =>
  error instanceof DynamoSessionError
    ? error
    : new DynamoSessionError(
        error instanceof TypeError ? 'INVALID_DATA' : 'DYNAMODB',
        (error as Error)?.message ?? String(error),
        { cause: error },
      )

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
 *   (604800), `touchAfter`, `consistentRead`, `retry`, `schema`, `contextKey`, `locking` and
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

  async function connect(c: Context, vars: EnvRecord): Promise<SessionTable> {
    const credentials = typeof s.credentials === 'function' ? await s.credentials(c) : s.credentials
    const conn = resolveConnection(s, credentials, vars)
    const cacheKey = `${conn.region}\n${conn.endpoint}\n${conn.credentials.accessKeyId}\n${conn.credentials.secretAccessKey}\n${conn.credentials.sessionToken ?? ''}`
    let send = clients.get(cacheKey)
    if (!send) {
      send = makeClient({ ...conn, retry: s.retry })
      clients.set(cacheKey, send)
      if (clients.size > MAX_CLIENTS) clients.delete(clients.keys().next().value as string)
    }
    return { send, name: conn.table }
  }

  /** Reports an error to `onError` and returns the response to send instead. */
  async function failure(c: Context, error: DynamoSessionError): Promise<Response> {
    if (!s.onError) {
      if (!error.transient) console.error(error)
      return errorResponse(error)
    }
    const custom = await s.onError(error, c)
    return custom instanceof Response ? custom : errorResponse(error)
  }

  /** Loads the item, taking the lease first when locking is on. */
  async function load(
    table: SessionTable,
    key: string,
  ): Promise<{ item: Item | undefined; lease?: string }> {
    if (!s.locking) return { item: await getItem(table, key, s.consistentRead) }
    const { leaseMs, waitMs } = s.locking
    const token = newId()
    const deadline = Date.now() + waitMs
    for (let attempt = 1; ; attempt++) {
      const got = await takeLease(table, key, token, leaseMs, s.consistentRead)
      if (got === 'missing') return { item: undefined }
      if (got !== 'held') return { item: got, lease: token }
      // Equal jitter: never a tight loop, and waiters spread out.
      const step = Math.min(200, 10 * 2 ** attempt)
      const delay = step / 2 + (Math.random() * step) / 2
      if (Date.now() + delay > deadline) {
        throw new DynamoSessionError(
          'LOCK_TIMEOUT',
          `another request holds the session's lease; gave up after locking.waitMs (${waitMs} ms)`,
        )
      }
      await sleep(delay)
    }
  }

  return async function dynamoSession(c, next) {
    const now = seconds()
    const vars = needsEnv ? readEnv(c) : {}
    let table: Promise<SessionTable> | undefined
    const tableOf = () => {
      table ??= connect(c, vars)
      return table
    }
    let signer: CookieSigner | undefined
    try {
      signer = signerFor(vars)
    } catch (error) {
      return failure(c, asSessionError(error))
    }
    const cookie = s.cookie
    const raw = readCookie(c.req.header('cookie'), cookie.name)
    let id: string | null = null
    if (raw !== undefined) {
      id = signer ? await signer.verify(raw) : isWellFormedId(raw) ? raw : null
    }

    let stored: StoredSession | null = null
    let lease: string | undefined
    let key: string | undefined
    if (id) {
      try {
        key = await storedKey(id)
        const loaded = await load(await tableOf(), key)
        lease = loaded.lease
        if (loaded.item) {
          try {
            stored = parseItem(loaded.item)
            if (stored.expires <= now || stored.created + s.absoluteMaxAge <= now) stored = null
            else if (s.schema) {
              let result = s.schema['~standard'].validate(stored.data)
              if (result instanceof Promise) result = await result
              if (result.issues) {
                throw new DynamoSessionError(
                  'INVALID_DATA',
                  `the stored session failed the schema: ${result.issues.map((i) => i.message).join('; ')}`,
                )
              }
              stored.data = result.value as StoredSession['data']
            }
          } catch (error) {
            // Unreadable data is no session: a fresh one starts, the old item is left to expire.
            stored = null
            const e = asSessionError(error)
            if (s.onError) await s.onError(e, c)
            else console.error(e)
          }
        }
      } catch (error) {
        return failure(c, asSessionError(error))
      }
      if (!stored) lease = undefined
    }

    // Idle timeout, capped by the absolute one.
    const expiryFor = (created: number) => Math.min(now + s.maxAge, created + s.absoluteMaxAge)
    const nextExpires = stored ? expiryFor(stored.created) : 0
    const touchDue =
      stored !== null &&
      nextExpires > stored.expires &&
      nextExpires - stored.expires >= s.touchAfter
    const session = new SessionState<Data, Flash>(
      stored && id ? id : newId(),
      stored,
      stored ? new Date((touchDue ? nextExpires : stored.expires) * 1000) : null,
    )
    c.set(((options?.contextKey as Key | undefined) ?? 'session') as Key, session)

    await next()

    const release = async () => {
      if (lease && key) await releaseLease(await tableOf(), key, lease).catch(() => {})
    }
    if (c.error) {
      await release()
      return
    }
    const setCookie = async (expires: number) => {
      const value = signer ? await signer.sign(session.id) : session.id
      c.header('Set-Cookie', serializeCookie(value, expires - now, cookie), { append: true })
    }
    const clearCookie = () => {
      c.header('Set-Cookie', serializeCookie('', 0, cookie), { append: true })
    }

    try {
      const changes = session.changes()
      if (changes.fresh) {
        const written = Object.keys(changes.set).length > 0 || Object.keys(changes.flash).length > 0
        if (written) {
          // regenerate() keeps the creation time, so absoluteMaxAge cannot be escaped by it.
          const created = stored && !session.destroyed ? stored.created : now
          const expires = expiryFor(created)
          const t = await tableOf()
          await putItem(t, await storedKey(session.id), {
            data: changes.set,
            flash: changes.flash,
            expires,
            created,
          })
          session.expiresAt = new Date(expires * 1000)
          await setCookie(expires)
        }
        if (changes.deleteId && key) await deleteItem(await tableOf(), key)
        if (!written && raw !== undefined && (session.destroyed || (id && !stored))) clearCookie()
        return
      }
      // A stored session, changed in place.
      const flashRemove = Object.keys(stored!.flash)
      const changed =
        Object.keys(changes.set).length > 0 ||
        changes.remove.length > 0 ||
        Object.keys(changes.increment).length > 0 ||
        Object.keys(changes.flash).length > 0
      const touch = touchDue || (changes.touch && nextExpires > stored!.expires)
      if (!changed && !touch && flashRemove.length === 0) {
        await release()
        return
      }
      try {
        await updateItem(await tableOf(), key!, {
          set: changes.set,
          remove: changes.remove,
          increment: changes.increment,
          flashSet: changes.flash,
          flashRemove,
          expires: nextExpires,
          now,
          size: changed
            ? {
                data: session.data as StoredSession['data'],
                flash: { ...stored!.flash, ...changes.flash },
              }
            : undefined,
          lease,
        })
      } catch (error) {
        if (!(error instanceof DynamoSessionError) || error.code !== 'CONDITION_FAILED') throw error
        if (lease) {
          throw new DynamoSessionError(
            'LOCK_LOST',
            `the session's lease expired (locking.leaseMs) before the change was saved`,
            { cause: error },
          )
        }
        // Destroyed or expired by another request meanwhile: never resurrect it.
        if (changed) {
          throw new DynamoSessionError(
            'SESSION_GONE',
            'the session ended (logged out or expired) while this request changed it; the change was not saved',
            { cause: error },
          )
        }
        clearCookie()
        return
      }
      if (touch) await setCookie(nextExpires)
    } catch (error) {
      await release()
      const e = asSessionError(error)
      const response = await failure(c, e)
      // Drop the handler's response entirely: none of its headers may claim a success.
      c.res = undefined
      c.res = response
      if (e.code === 'SESSION_GONE') clearCookie()
    }
  }
}
