/**
 * @module The options of `dynamoSession()`, their defaults, and their checks at factory time.
 */
import type { Context } from 'hono'
import type { Credentials, RetryOptions } from './client.ts'
import type { CookieAttributes } from './cookie.ts'
import { DynamoSessionError } from './errors.ts'

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
  /** Table name. @default SESSION_TABLE, else 'sessions' */
  table?: string
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

/** Options after defaults and checks. */
export interface Settings {
  table: string | undefined
  region: string | undefined
  endpoint: string | undefined
  credentials: CredentialsOption | undefined
  fetch: typeof fetch | undefined
  cookie: CookieAttributes
  secrets: readonly string[] | undefined
  maxAge: number
  absoluteMaxAge: number
  touchAfter: number
  consistentRead: boolean
  retry: RetryOptions
  schema: StandardSchemaV1<unknown, unknown> | undefined
  locking: { leaseMs: number; waitMs: number } | undefined
  onError: DynamoSessionOptions['onError']
  contextKey: string
}

/** A check: what passes, and what is allowed, for the message. */
type Check = [test: (value: never) => unknown, allowed: string]

const int = (min: number, unit: string): Check => [
  (v: number) => Number.isInteger(v) && v >= min,
  `a ${min ? 'positive' : 'non-negative'} integer number of ${unit}`,
]
const text = (pattern: RegExp, allowed: string): Check => [
  (v: string) => typeof v === 'string' && pattern.test(v),
  allowed,
]
const BOOL: Check = [(v) => typeof v === 'boolean', 'true or false']
const FUNCTION: Check = [(v) => typeof v === 'function', 'a function']
const SECONDS = int(1, 'seconds')
const MILLISECONDS = int(1, 'milliseconds')
/** Cookie attribute values may not hold control characters or `;`. */
const ATTRIBUTE = /^[^\u0000-\u001f\u007f;]*$/

/** Every option: its check and its default. `cookie.name` is `name` inside the `cookie` object. */
const RULES: Record<string, [Check, unknown?]> = {
  table: [text(/^[\w.-]{3,255}$/, 'a DynamoDB table name (3 to 255 of a-z A-Z 0-9 _ . -)')],
  region: [text(/^[a-z0-9-]+$/, "an AWS region such as 'eu-west-1'")],
  endpoint: [text(/^https?:\/\/[^\s/]/, 'an http(s) URL')],
  credentials: [
    [
      (v: Credentials) =>
        typeof v === 'function' ||
        (typeof v?.accessKeyId === 'string' &&
          v.accessKeyId &&
          typeof v.secretAccessKey === 'string' &&
          v.secretAccessKey &&
          ['string', 'undefined'].includes(typeof v.sessionToken)),
      '{ accessKeyId, secretAccessKey, sessionToken? } or a function returning it',
    ],
  ],
  fetch: [FUNCTION],
  'cookie.name': [
    text(/^[!#$%&'*+\-.^_`|~\w]+$/, "a cookie name (letters, digits and !#$%&'*+-.^_`|~)"),
    'sid',
  ],
  'cookie.path': [text(/^\/[^\u0000-\u001f\u007f;]*$/, "a path starting with '/'"), '/'],
  'cookie.domain': [text(ATTRIBUTE, 'a domain name')],
  'cookie.secure': [BOOL, true],
  'cookie.httpOnly': [BOOL, true],
  'cookie.sameSite': [text(/^(strict|lax|none)$/i, "'Strict', 'Lax' or 'None'"), 'Lax'],
  'cookie.partitioned': [BOOL, false],
  secret: [[() => true, '']],
  maxAge: [SECONDS, 86400],
  absoluteMaxAge: [SECONDS, 604800],
  touchAfter: [int(0, 'seconds')],
  consistentRead: [BOOL, true],
  'retry.attempts': [int(1, 'attempts'), 4],
  'retry.timeoutMs': [MILLISECONDS, 3000],
  'retry.budgetMs': [MILLISECONDS, 10000],
  schema: [
    [
      (v: StandardSchemaV1) => typeof v?.['~standard']?.validate === 'function',
      'a Standard Schema (zod, valibot, arktype…)',
    ],
  ],
  locking: [
    [(v) => typeof v === 'boolean' || typeof v === 'object', 'true, false or { leaseMs, waitMs }'],
  ],
  'locking.leaseMs': [MILLISECONDS, 10000],
  'locking.waitMs': [int(0, 'milliseconds'), 5000],
  onError: [FUNCTION],
  contextKey: [text(/^[^\s]+$/, 'a name without spaces'), 'session'],
}
/** Options given as objects of their own. */
const GROUPS = ['cookie', 'retry', 'locking']

/** Secrets shorter than this are too easy to guess for HMAC keys. */
export const MIN_SECRET_LENGTH = 32

const show = (value: unknown): string =>
  typeof value === 'string'
    ? JSON.stringify(value)
    : typeof value === 'function'
      ? 'a function'
      : Array.isArray(value)
        ? `an array of ${value.length}`
        : value && typeof value === 'object'
          ? 'an object'
          : String(value)

const fail = (message: string): never => {
  throw new DynamoSessionError('INVALID_OPTIONS', `dynamoSession: ${message}`)
}

/** Fails unless `ok`, with "<name> must be <allowed>, got <value>". */
function check(
  ok: unknown,
  name: string,
  allowed: string,
  value: unknown,
  shown = show(value),
): void {
  if (!ok) fail(`${name} must be ${allowed}, got ${shown}`)
}

/** Checks a secret or list of secrets, from the options or SESSION_SECRET. */
export function checkSecrets(value: unknown, name = 'secret'): readonly string[] {
  const list = ([] as unknown[]).concat(value)
  for (const secret of list.length ? list : [value]) {
    check(
      typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH,
      name,
      `a string of at least ${MIN_SECRET_LENGTH} characters, or an array of them (the first signs)`,
      secret,
      typeof secret === 'string' ? `a string of ${secret.length} characters` : show(secret),
    )
  }
  return list as string[]
}

/** Applies defaults and checks every option; throws INVALID_OPTIONS naming the option. */
export function settingsOf(options: DynamoSessionOptions = {}): Settings {
  const given = options as Record<string, Record<string, unknown> | undefined>
  check(given && typeof given === 'object', 'options', 'an object', given)
  // Unknown names are refused, so a typo cannot fall back to a default unnoticed.
  for (const key in given) {
    const group = given[key]
    const unknown = (name: string) =>
      name in RULES || fail(`unknown option ${name}; allowed: ${Object.keys(RULES).join(', ')}`)
    if (GROUPS.includes(key) && (key !== 'locking' || typeof group === 'object')) {
      check(group && typeof group === 'object', key, 'an object', group)
      for (const k in group) unknown(`${key}.${k}`)
    } else unknown(key)
  }
  const out: Record<string, Record<string, unknown>> = { cookie: {}, retry: {}, locking: {} }
  for (const name in RULES) {
    const [[test, allowed], fallback] = RULES[name]
    const [group, key] = name.split('.')
    const value = key ? given[group]?.[key] : given[group]
    if (value !== undefined) check(test(value as never), name, allowed, value)
    if (key) out[group][key] = value ?? fallback
    else if (group !== 'locking') out[group] = (value ?? fallback) as Record<string, unknown>
  }
  const s = out as unknown as Settings & { secret: unknown }
  const c = s.cookie
  c.sameSite =
    `${c.sameSite[0].toUpperCase()}${c.sameSite.slice(1).toLowerCase()}` as typeof c.sameSite
  // Browsers drop these cookies otherwise.
  check(
    c.secure || (c.sameSite !== 'None' && !c.partitioned && !/^__(Host|Secure)-/.test(c.name)),
    'cookie.secure',
    "true with sameSite 'None', partitioned or a __Host-/__Secure- name",
    c.secure,
  )
  check(
    !c.name.startsWith('__Host-') || (c.path === '/' && !c.domain),
    'cookie.name',
    "free of the __Host- prefix unless path is '/' and there is no domain",
    c.name,
  )
  s.touchAfter ??= Math.round(s.maxAge / 10)
  check(s.touchAfter <= s.maxAge, 'touchAfter', `at most maxAge (${s.maxAge})`, s.touchAfter)
  s.secrets = s.secret === undefined ? undefined : checkSecrets(s.secret)
  if (!options.locking) s.locking = undefined
  return s
}

/** The options every DynamoDB user of the library takes: the middleware and the table tools. */
export interface ConnectionOptions {
  /** Table name. @default SESSION_TABLE, else 'sessions' */
  table?: string
  /** AWS region. @default AWS_REGION, else AWS_DEFAULT_REGION */
  region?: string
  /** DynamoDB endpoint. @default AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, else the region's */
  endpoint?: string
  /** @default AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN */
  credentials?: Credentials
  /** @default globalThis.fetch */
  fetch?: typeof fetch
}

/** Environment variables as `env(c)` or `process.env` give them. */
export type EnvRecord = Record<string, string | undefined>

/** A resolved connection: where the table is and how to sign for it. */
export interface Connection {
  table: string
  region: string
  endpoint: string
  credentials: Credentials
  fetch: typeof fetch
}

// workerd refuses a fetch called without the global as `this`, so it is never stored unbound.
// (Cast: Bun's types add `preconnect` to `typeof fetch`.)
const globalFetch = ((input, init) => fetch(input, init)) as typeof fetch

/** Fills connection options from the environment; throws MISSING_CONFIG naming the ways to set them. */
export function resolveConnection(
  o: Omit<ConnectionOptions, 'credentials'>,
  credentials: Credentials | undefined,
  env: EnvRecord,
): Connection {
  const region = o.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION)
  if (!region) {
    throw new DynamoSessionError(
      'MISSING_CONFIG',
      'No AWS region: pass region or set AWS_REGION (or AWS_DEFAULT_REGION)',
    )
  }
  const creds =
    credentials ??
    (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          sessionToken: env.AWS_SESSION_TOKEN || undefined,
        }
      : undefined)
  if (!creds?.accessKeyId || !creds.secretAccessKey) {
    throw new DynamoSessionError(
      'MISSING_CONFIG',
      'No AWS credentials: pass credentials or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    )
  }
  return {
    table: o.table ?? (env.SESSION_TABLE || 'sessions'),
    region,
    endpoint:
      o.endpoint ??
      (env.AWS_ENDPOINT_URL_DYNAMODB ||
        env.AWS_ENDPOINT_URL ||
        `https://dynamodb.${region}.amazonaws.com`),
    credentials: creds,
    fetch: o.fetch ?? globalFetch,
  }
}

/** Where a table tool reads each connection option from when it is not given. */
const TOOL_ENV: Record<string, string[]> = {
  table: ['SESSION_TABLE'],
  region: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
  endpoint: ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL'],
}

/**
 * Checks the options of the table tool `tool` (`createSessionTable`, `sweepExpiredSessions`)
 * by the rules of `dynamoSession()`'s, and the environment variables that stand in for the
 * connection options; throws INVALID_OPTIONS naming the option or variable. The table tools
 * take static credentials only; the sweep also takes `now` (epoch seconds) and `onProgress`.
 */
export function checkToolOptions(
  tool: string,
  options: unknown,
  env: EnvRecord,
  sweep: boolean,
): void {
  const bad = (message: string): never => {
    throw new DynamoSessionError('INVALID_OPTIONS', `${tool}: ${message}`)
  }
  const rules: Record<string, Check> = {}
  for (const name of [
    'table',
    'region',
    'endpoint',
    'fetch',
    'retry.attempts',
    'retry.timeoutMs',
    'retry.budgetMs',
  ]) {
    rules[name] = RULES[name][0]
  }
  rules.credentials = [
    (v: Credentials) => typeof v === 'object' && RULES.credentials[0][0](v as never),
    '{ accessKeyId, secretAccessKey, sessionToken? } with non-empty strings',
  ]
  if (sweep) {
    rules.now = [
      (v: number) => Number.isInteger(v) && v > 0 && v < 1e11,
      'a time in epoch seconds, an integer such as Math.floor(Date.now() / 1000)',
    ]
    rules.onProgress = FUNCTION
  }
  rules.env = [(v) => v && typeof v === 'object', 'an object of environment variables']
  const given = options as Record<string, unknown>
  if (!given || typeof given !== 'object') bad(`options must be an object, got ${show(given)}`)
  const retry = given.retry as Record<string, unknown> | undefined
  if (retry !== undefined && (!retry || typeof retry !== 'object')) {
    bad(`retry must be an object, got ${show(retry)}`)
  }
  const entries = Object.entries(given).filter(([k]) => k !== 'retry')
  for (const k in retry) entries.push([`retry.${k}`, retry[k]])
  for (const [name, value] of entries) {
    const rule =
      rules[name] ?? bad(`unknown option ${name}; allowed: ${Object.keys(rules).join(', ')}`)
    const ms = name === 'now' && typeof value === 'number' && value >= 1e11
    if (value !== undefined && !rule[0](value as never)) {
      bad(
        `${name} must be ${rule[1]}, got ${show(value)}${ms ? ', which looks like milliseconds' : ''}`,
      )
    }
  }
  for (const name in TOOL_ENV) {
    const variable = TOOL_ENV[name].find((v) => env[v])
    if (given[name] === undefined && variable && !rules[name][0](env[variable] as never)) {
      bad(
        `the environment variable ${variable} must be ${rules[name][1]}, got ${show(env[variable])}`,
      )
    }
  }
}
