/**
 * @module The options of `dynamoSession()`, their defaults, and their checks at factory time.
 */
import type { Context } from 'hono'
import type { Credentials, RetryOptions } from './client.ts'
import { DynamoSessionError } from './errors.ts'

/** The session cookie. It carries only the id, never data. */
export interface CookieOptions {
  /** @default 'sid' */
  name?: string
  /** @default '/' */
  path?: string
  /** @default none (the cookie goes to the exact host only) */
  domain?: string
  /** @default true */
  secure?: boolean
  /** @default true */
  httpOnly?: boolean
  /** @default 'Lax' */
  sameSite?: 'Strict' | 'Lax' | 'None' | 'strict' | 'lax' | 'none'
  /** CHIPS partitioned cookie. @default false */
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

/** Credentials, or a function of the request context that returns them (rotated, STS). */
export type CredentialsOption = Credentials | ((c: Context) => Credentials | Promise<Credentials>)

/** Options of `dynamoSession()`. Connection options fall back to the environment. */
export interface DynamoSessionOptions<Data extends object = Record<string, unknown>> {
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
  /** A Standard Schema the stored data must pass; data that fails is treated as no session. */
  schema?: StandardSchemaV1<unknown, Partial<Data>> | StandardSchemaV1<unknown, unknown>
  /** Serialise the requests of one session (off by default). `true` takes the defaults. */
  locking?: boolean | LockingOptions
  /** Observes store errors; a Response it returns is sent instead of the default 500 or 503. */
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
  cookie: {
    name: string
    path: string
    domain: string | undefined
    secure: boolean
    httpOnly: boolean
    sameSite: 'Strict' | 'Lax' | 'None'
    partitioned: boolean
  }
  secrets: readonly string[] | undefined
  maxAge: number
  absoluteMaxAge: number
  touchAfter: number
  consistentRead: boolean
  retry: RetryOptions
  schema: StandardSchemaV1<unknown, unknown> | undefined
  locking: { leaseMs: number; waitMs: number } | undefined
  onError: DynamoSessionOptions['onError']
}

const KNOWN =
  'table region endpoint credentials fetch cookie secret maxAge absoluteMaxAge touchAfter consistentRead retry schema locking onError'
/** RFC 6265 cookie-name token characters. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** Cookie attribute values may not hold control characters or `;`. */
const ATTRIBUTE = /^[^\u0000-\u001f\u007f;]*$/
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

/** Fails unless `ok`, with "<name> must be <allowed>, got <value>"; returns the value. */
function check<T>(ok: unknown, name: string, allowed: string, value: T, shown = show(value)): T {
  if (!ok) fail(`${name} must be ${allowed}, got ${shown}`)
  return value
}

const integer = (name: string, value: unknown, min: number, unit: string): number =>
  check(
    Number.isInteger(value) && (value as number) >= min,
    name,
    `a ${min ? 'positive' : 'non-negative'} integer number of ${unit}`,
    value as number,
  )

const text = (name: string, value: unknown, pattern: RegExp, allowed: string): string =>
  check(typeof value === 'string' && pattern.test(value), name, allowed, value as string)

const bool = (name: string, value: unknown): boolean =>
  check(typeof value === 'boolean', name, 'true or false', value as boolean)

/** Checks that `value` is an object with only the `known` keys (space-separated). */
function object<T extends object>(name: string, value: T, known: string): T {
  check(value && typeof value === 'object', name, 'an object', value)
  for (const key of Object.keys(value)) {
    if (!known.split(' ').includes(key)) {
      fail(`unknown option ${name === 'options' ? '' : `${name}.`}${key}; allowed: ${known}`)
    }
  }
  return value
}

/** Checks a secret or list of secrets, from the options or SESSION_SECRET. */
export function checkSecrets(value: unknown, name = 'secret'): readonly string[] {
  const list = ([] as unknown[]).concat(value)
  for (const secret of list.length ? list : [value]) {
    check(
      typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH,
      name,
      `a string of at least ${MIN_SECRET_LENGTH} characters (or an array of them, the first signs)`,
      secret,
      typeof secret === 'string' ? `a string of ${secret.length} characters` : show(secret),
    )
  }
  return list as string[]
}

/** Applies defaults and checks every option; throws INVALID_OPTIONS naming the option. */
export function settingsOf(options: DynamoSessionOptions = {}): Settings {
  const o = object('options', options, KNOWN)
  const cookie = object(
    'cookie',
    o.cookie ?? {},
    'name path domain secure httpOnly sameSite partitioned',
  )
  const sameSite: Settings['cookie']['sameSite'] = (
    { strict: 'Strict', lax: 'Lax', none: 'None' } as const
  )[String(cookie.sameSite ?? 'lax').toLowerCase() as 'lax']
  check(sameSite, 'cookie.sameSite', "'Strict', 'Lax' or 'None'", cookie.sameSite)
  const c: Settings['cookie'] = {
    name: text(
      'cookie.name',
      cookie.name ?? 'sid',
      TOKEN,
      "a cookie name (letters, digits and !#$%&'*+-.^_`|~)",
    ),
    path: text(
      'cookie.path',
      cookie.path ?? '/',
      /^\/[^\u0000-\u001f\u007f;]*$/,
      "a path starting with '/'",
    ),
    domain: cookie.domain && text('cookie.domain', cookie.domain, ATTRIBUTE, 'a domain name'),
    secure: bool('cookie.secure', cookie.secure ?? true),
    httpOnly: bool('cookie.httpOnly', cookie.httpOnly ?? true),
    sameSite,
    partitioned: bool('cookie.partitioned', cookie.partitioned ?? false),
  }
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

  const maxAge = integer('maxAge', o.maxAge ?? 86400, 1, 'seconds')
  const touchAfter = integer('touchAfter', o.touchAfter ?? Math.round(maxAge / 10), 0, 'seconds')
  check(touchAfter <= maxAge, 'touchAfter', `at most maxAge (${maxAge})`, touchAfter)

  const retry = object('retry', o.retry ?? {}, 'attempts timeoutMs budgetMs')
  const locking = o.locking === true ? {} : o.locking || undefined
  if (locking) object('locking', locking, 'leaseMs waitMs')

  check(
    o.schema === undefined || typeof o.schema?.['~standard']?.validate === 'function',
    'schema',
    'a Standard Schema (zod, valibot, arktype…): an object with ~standard.validate',
    o.schema,
  )
  for (const name of ['fetch', 'onError'] as const) {
    check(o[name] === undefined || typeof o[name] === 'function', name, 'a function', o[name])
  }
  const k = o.credentials
  check(
    k === undefined ||
      typeof k === 'function' ||
      (!!k &&
        typeof k.accessKeyId === 'string' &&
        !!k.accessKeyId &&
        typeof k.secretAccessKey === 'string' &&
        !!k.secretAccessKey &&
        ['string', 'undefined'].includes(typeof k.sessionToken)),
    'credentials',
    '{ accessKeyId, secretAccessKey, sessionToken? } with non-empty strings, or a function of the context returning them',
    k,
  )

  return {
    table:
      o.table &&
      text(
        'table',
        o.table,
        /^[\w.-]{3,255}$/,
        'a DynamoDB table name (3 to 255 of a-z A-Z 0-9 _ . -)',
      ),
    region:
      o.region && text('region', o.region, /^[a-z0-9-]+$/, "an AWS region such as 'eu-west-1'"),
    endpoint: o.endpoint && text('endpoint', o.endpoint, /^https?:\/\/[^\s/]+/, 'an http(s) URL'),
    credentials: k,
    fetch: o.fetch,
    cookie: c,
    secrets: o.secret === undefined ? undefined : checkSecrets(o.secret),
    maxAge,
    absoluteMaxAge: integer('absoluteMaxAge', o.absoluteMaxAge ?? 604800, 1, 'seconds'),
    touchAfter,
    consistentRead: bool('consistentRead', o.consistentRead ?? true),
    retry: {
      attempts: integer('retry.attempts', retry.attempts ?? 4, 1, 'attempts'),
      timeoutMs: integer('retry.timeoutMs', retry.timeoutMs ?? 3000, 1, 'milliseconds'),
      budgetMs: integer('retry.budgetMs', retry.budgetMs ?? 10000, 1, 'milliseconds'),
    },
    schema: o.schema as StandardSchemaV1<unknown, unknown> | undefined,
    locking: locking && {
      leaseMs: integer('locking.leaseMs', locking.leaseMs ?? 10000, 1, 'milliseconds'),
      waitMs: integer('locking.waitMs', locking.waitMs ?? 5000, 0, 'milliseconds'),
    },
    onError: o.onError,
  }
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
const globalFetch: typeof fetch = (input, init) => fetch(input, init)

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
      'No AWS region for DynamoDB: pass the region option or set the AWS_REGION (or AWS_DEFAULT_REGION) environment variable',
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
      'No AWS credentials for DynamoDB: pass the credentials option or set the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment variables',
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
