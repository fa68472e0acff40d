/**
 * @module The options of `dynamoSession()`, as users write them: types and documentation only.
 * Their defaults and checks are in `settings.ts`.
 */
import type { Context } from 'hono'
import type { Credentials, RetryOptions, Send } from './client.ts'
import type { CookieAttributes } from './cookie.ts'
import type { DynamoSessionError } from './errors.ts'
import type { JsonValue } from './marshall.ts'

/** The session cookie. It carries only the session's id, never data. */
export interface CookieOptions {
  /**
   * The cookie's name. Change it when another app on this host or a parent domain uses `sid`,
   * when several `dynamoSession()` instances run side by side, or to get the `__Host-` prefix
   * (`'__Host-sid'`: the browser then keeps the cookie to this exact host, path `/`, HTTPS).
   * @default 'sid'
   */
  name?: string
  /**
   * The URL path the browser sends the cookie to. Narrow it (`'/admin'`) only when the session
   * belongs to part of the site: requests outside the path arrive without it.
   * @default '/'
   */
  path?: string
  /**
   * The `Domain` attribute. Unset, the cookie goes to the exact host only, the safest choice.
   * Set a parent domain (`'example.com'`) to share the session with its subdomains: every one of
   * them then receives the id. Not allowed with a `__Host-` name.
   * @default undefined (this host only)
   */
  domain?: string
  /**
   * Sent over HTTPS only. Keep it in production; `false` is only for local development over
   * plain http in a browser that refuses secure cookies there. Must be true with
   * `sameSite: 'None'`, `partitioned` or a `__Host-`/`__Secure-` name.
   * @default true
   */
  secure?: boolean
  /**
   * Hidden from the page's JavaScript (`document.cookie`), so injected script cannot read the
   * session id. Keep it: the cookie carries an opaque id no script needs.
   * @default true
   */
  httpOnly?: boolean
  /**
   * When the browser sends the cookie with requests started by other sites. `'Lax'`: when the
   * user follows a link into the site (a top-level GET), not with other sites' POST forms,
   * fetches, images or frames: most CSRF is blocked and users arriving by a link stay signed in.
   * `'Strict'`: never from another site (a followed link lands signed out). `'None'`: always,
   * for an app embedded in or called from other sites with credentials; needs `secure`. Any
   * letter case.
   * @default 'Lax'
   */
  sameSite?: 'Strict' | 'Lax' | 'None' | 'strict' | 'lax' | 'none'
  /**
   * A partitioned (CHIPS) cookie, kept per top-level site. Set it, with `sameSite: 'None'` and
   * `secure`, for an app embedded as a third-party frame where browsers block third-party
   * cookies; each embedding site then has its own session.
   * @default false
   */
  partitioned?: boolean
}

/** Serialises requests of one session with a lease on its item. */
export interface LockingOptions {
  /** A lease left by a crashed request expires after this many milliseconds. @default 10000 */
  leaseMs?: number
  /** A request that cannot take the lease within this many milliseconds gets 503. @default 5000 */
  waitMs?: number
}

/** The part of the Standard Schema interface (zod, valibot, arktype…) the session check uses. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (
      value: unknown,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>
    readonly types?: { readonly input: Input; readonly output: Output } | undefined
  }
}

/** What a Standard Schema's `validate` returns. */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string }> }

/**
 * What a `schema` may output for `Data`: any of its keys, each with its type (or undefined, for
 * schemas whose optional keys output `undefined` under `exactOptionalPropertyTypes`).
 */
export type PartialData<Data> = { [K in keyof Data]?: Data[K] | undefined }

/**
 * A table with replicas in several regions: what `globalTable()` returns, for the `table`
 * option. The middleware asks it, once per request, for a `Send` that places each call in a
 * region (and keeps the region cookie, which says where the browser's last write went).
 */
export interface TableRouter {
  /** The table's name, the same in every region. */
  readonly name: string
  /** The regions with a replica, in the order given. */
  readonly regions: readonly string[]
  /** What stands in for the `table` and `region` options: the name, and the first region. */
  readonly conn: { table: string; region: string }
  /** The DynamoDB endpoint of a region. */
  endpoint(region: string): string
  /**
   * One request's route. `clientOf` makes the client of a region and its endpoint; `s` gives
   * the retries and the session cookie's attributes; `signer` signs the region cookie.
   */
  route(
    c: Context,
    clientOf: (at: { region: string; endpoint: string }) => Send,
    s: { retry: RetryOptions; cookie: CookieAttributes; absoluteMaxAge: number },
    signer: { sign(payload: string): Promise<string> } | undefined,
  ): Send
  /**
   * The table tools' `Send` (`listSessions()`, `revokeSession(s)()`): other calls in `region`;
   * an item read where it lives (its recorded home, else the first region), consistently, and
   * written there, so a revocation's tombstone is never undone by a write at the home.
   */
  tool(region: string, clientOf: (at: { region: string; endpoint: string }) => Send): Send
}

/** Credentials, or a function of the request context that returns them (rotated, STS). */
export type CredentialsOption = Credentials | ((c: Context) => Credentials | Promise<Credentials>)

/**
 * Options of `dynamoSession()`. Connection options fall back to the environment. `Data` types
 * `schema`; `Key` is the `contextKey`.
 */
export interface DynamoSessionOptions<
  Data extends object = Record<string, unknown>,
  Key extends string = 'session',
> {
  /**
   * Table name, or `globalTable({ name, regions })` for a DynamoDB global table (then `region`
   * and `endpoint` are not used). @default SESSION_TABLE, else 'sessions'
   */
  table?: string | TableRouter
  /** AWS region. @default AWS_REGION, else AWS_DEFAULT_REGION */
  region?: string
  /** DynamoDB endpoint. @default AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, else the region's */
  endpoint?: string
  /** @default AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN */
  credentials?: CredentialsOption
  /** The fetch used for DynamoDB calls. @default globalThis.fetch */
  fetch?: typeof fetch
  /** The session cookie. */
  cookie?: CookieOptions
  /** Signs the cookie with HMAC-SHA-256; with an array the first signs and all verify. @default SESSION_SECRET */
  secret?: string | readonly string[]
  /** Idle timeout in seconds, rolling. @default 86400 */
  maxAge?: number
  /** Hard cap in seconds since the session was created. @default 604800 */
  absoluteMaxAge?: number
  /** An unchanged session's expiry moves forward at most this often, in seconds. @default maxAge / 10 */
  touchAfter?: number
  /** Strongly consistent reads. @default true */
  consistentRead?: boolean
  /** Attempts per DynamoDB call, timeout of each, and the budget of all. @default { attempts: 4, timeoutMs: 3000, budgetMs: 10000 } */
  retry?: Partial<RetryOptions>
  /**
   * A Standard Schema (zod, valibot, arktype…) the stored data must pass; data that fails is
   * treated as no session. Handlers see its output, which must fit `Data` (keys may be missing:
   * a stored session need not hold every key).
   */
  schema?: StandardSchemaV1<unknown, PartialData<Data>>
  /**
   * The name handlers read the session under, `c.get(contextKey)`. Give each instance its own
   * (and its own cookie name) when several run side by side.
   * @default 'session'
   */
  contextKey?: Key
  /**
   * What a session bound to a user (`regenerate({ userId })`) keeps of the browser, for
   * `listSessions()`: a JSON value of at most 1 KB. Add an IP address only if you mean to.
   * @default the User-Agent header, cut to 256 characters
   */
  describe?: (c: Context) => JsonValue
  /** Serialise the requests of one session (off by default). `true` takes the defaults. */
  locking?: boolean | LockingOptions
  /**
   * Observes store errors (instead of `console.error`); a Response it returns is sent. Without
   * one, the error goes on to `app.onError` as a `DynamoSessionError` carrying its response.
   */
  onError?: (
    error: DynamoSessionError,
    c: Context,
    // biome-ignore lint/suspicious/noConfusingVoidType: an observer that returns nothing is the common case
  ) => Response | void | Promise<Response | void>
}
