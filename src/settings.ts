/**
 * @module The options' defaults and checks: one rule per option path, one routine that applies
 * them for `dynamoSession()` and for the table tools, and the settings the rest of the library
 * reads. Setup mistakes fail here, with a sentence that names the option.
 */
import type { Credentials, RetryOptions } from './client.ts'
import { ENVIRONMENT, type EnvRecord, hasKeys } from './connection.ts'
import type { CookieAttributes } from './cookie.ts'
import { DynamoSessionError } from './errors.ts'
import { plainCopy } from './marshall.ts'
import type {
  CookieOptions,
  CredentialsOption,
  DynamoSessionOptions,
  LockingOptions,
  StandardSchemaV1,
  TableRouter,
} from './options.ts'

/** Options after defaults and checks. */
export interface Settings {
  table: string | TableRouter | undefined
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
  describe: DynamoSessionOptions['describe']
  contextKey: string
}

/** The defaults, in one place: the table tools take `retry` from here too. */
export const DEFAULTS: Pick<
  Settings,
  'cookie' | 'maxAge' | 'absoluteMaxAge' | 'consistentRead' | 'retry' | 'contextKey'
> & { locking: Required<LockingOptions> } = {
  cookie: {
    name: 'sid',
    path: '/',
    secure: true,
    httpOnly: true,
    sameSite: 'Lax',
    partitioned: false,
  },
  maxAge: 86400,
  absoluteMaxAge: 604800,
  consistentRead: true,
  retry: { attempts: 4, timeoutMs: 3000, budgetMs: 10000 },
  locking: { leaseMs: 10000, waitMs: 5000 },
  contextKey: 'session',
}

/** The most characters a user id may have (`regenerate({ userId })`, the user tools). */
export const MAX_USER_ID = 256

/** Secrets shorter than this are too easy to guess for HMAC keys. */
export const MIN_SECRET_LENGTH = 32

/** A check: what passes, and what is allowed, for the message. */
type Rule = readonly [test: (value: never) => unknown, allowed: string]

/** The options given as objects of their own. */
const GROUPS = ['cookie', 'retry', 'locking'] as const

/** Every option by its path: a rule for each, or the compiler complains. */
type OptionPath =
  | Exclude<keyof DynamoSessionOptions, (typeof GROUPS)[number]>
  | 'locking'
  | `cookie.${keyof CookieOptions}`
  | `retry.${keyof RetryOptions}`
  | `locking.${keyof LockingOptions}`

const int = (min: number, unit: string): Rule => [
  (v: number) => Number.isInteger(v) && v >= min,
  `a ${min ? 'positive' : 'non-negative'} integer number of ${unit}`,
]
const text = (pattern: RegExp, allowed: string): Rule => [
  (v: string) => typeof v === 'string' && pattern.test(v),
  allowed,
]
const BOOL: Rule = [(v) => typeof v === 'boolean', 'true or false']
const FUNCTION: Rule = [(v) => typeof v === 'function', 'a function']
const SECONDS = int(1, 'seconds')
const MILLISECONDS = int(1, 'milliseconds')
const isStaticCredentials = (v: Credentials) =>
  hasKeys(v) && ['string', 'undefined'].includes(typeof v.sessionToken)

/** The connection options whose values come from the environment when not given. */
type FromEnvironment = 'table' | 'region' | 'endpoint'

/** The connection rules, shared with the table tools. */
const CONNECTION: Record<FromEnvironment | 'fetch' | `retry.${keyof RetryOptions}`, Rule> = {
  table: text(/^[\w.-]{3,255}$/, 'a DynamoDB table name (3 to 255 of a-z A-Z 0-9 _ . -)'),
  region: text(/^[a-z0-9-]+$/, "an AWS region such as 'eu-west-1'"),
  endpoint: text(/^https?:\/\/[^\s/]/, 'an http(s) URL'),
  fetch: FUNCTION,
  'retry.attempts': int(1, 'attempts'),
  'retry.timeoutMs': MILLISECONDS,
  'retry.budgetMs': MILLISECONDS,
}

const RULES: Record<OptionPath, Rule> = {
  ...CONNECTION,
  // Or globalTable()'s router.
  table: [(v: TableRouter) => v?.route || CONNECTION.table[0](v as never), CONNECTION.table[1]],
  credentials: [
    (v: Credentials) => typeof v === 'function' || isStaticCredentials(v),
    '{ accessKeyId, secretAccessKey, sessionToken? } or a function returning it',
  ],
  'cookie.name': text(
    /^[!#$%&'*+\-.^_`|~\w]+$/,
    "a cookie name (letters, digits and !#$%&'*+-.^_`|~)",
  ),
  'cookie.path': text(/^\/[^\0-\x1f\x7f;]*$/, "a path starting with '/'"),
  // Cookie attribute values may not hold control characters or `;`.
  'cookie.domain': text(/^[^\0-\x1f\x7f;]*$/, 'a domain name'),
  'cookie.secure': BOOL,
  'cookie.httpOnly': BOOL,
  'cookie.sameSite': text(/^(strict|lax|none)$/i, "'Strict', 'Lax' or 'None'"),
  'cookie.partitioned': BOOL,
  secret: [() => true, ''],
  maxAge: SECONDS,
  absoluteMaxAge: SECONDS,
  touchAfter: int(0, 'seconds'),
  consistentRead: BOOL,
  schema: [
    (v: StandardSchemaV1) => typeof v?.['~standard']?.validate === 'function',
    'a Standard Schema (zod, valibot, arktype...)',
  ],
  locking: [
    (v) => typeof v === 'boolean' || typeof v === 'object',
    'true, false or { leaseMs, waitMs }',
  ],
  'locking.leaseMs': MILLISECONDS,
  'locking.waitMs': int(0, 'milliseconds'),
  onError: FUNCTION,
  describe: FUNCTION,
  contextKey: text(/^[^\s]+$/, 'a name without spaces'),
}

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

const invalid = (where: string, option: string, message: string): never => {
  throw new DynamoSessionError('INVALID_OPTIONS', `${where}: ${message}`, { option })
}

/** Fails unless `ok`, with "<where>: <name> must be <allowed>, got <value as shown>". */
function check(
  ok: unknown,
  where: string,
  name: string,
  allowed: string,
  value: unknown,
  shown = show(value),
): void {
  if (!ok) invalid(where, name, `${name} must be ${allowed}, got ${shown}`)
}

/**
 * What is wrong with a value of a connection option (`table`, `region`, `endpoint`) or of a user
 * tool's `userId` or `except`, as "must be …, got …", or undefined when it is fine: for callers
 * that name the option their own way (the CLI's flags).
 */
export function problemOf(
  option: FromEnvironment | 'userId' | 'except' | 'regions',
  value: unknown,
): string | undefined {
  const [test, allowed] =
    option in CONNECTION ? CONNECTION[option as FromEnvironment] : toolRules()[option as ToolOption]
  return test(value as never) ? undefined : `must be ${allowed}, got ${show(value)}`
}

/**
 * True when `b` is `a` with at most one edit: a character added, dropped or changed, or two
 * neighbours swapped (the typos people make).
 */
function oneEditApart(a: string, b: string): boolean {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  const x = a.slice(i)
  const y = b.slice(i)
  return (
    x.slice(1) === y ||
    x === y.slice(1) ||
    x.slice(1) === y.slice(1) ||
    (x[0] === y[1] && x[1] === y[0] && x.slice(2) === y.slice(2))
  )
}

/**
 * The candidate `word` is a typo of (letter case aside): the first that matches it, else the
 * first one edit away.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase()
  return (
    candidates.find((c) => c.toLowerCase() === lower) ??
    candidates.find((c) => oneEditApart(lower, c.toLowerCase()))
  )
}

/**
 * Checks every given option against `rules`, refusing unknown names (with the closest known
 * one), so a typo cannot fall back to a default unnoticed. Groups are checked member by member.
 * @returns the given options flattened by path
 */
function checkGiven(
  where: string,
  given: unknown,
  rules: Partial<Record<string, Rule>>,
): Record<string, unknown> {
  check(given && typeof given === 'object', where, 'options', 'an object', given)
  const flat: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(given as object)) {
    if (
      (GROUPS as readonly string[]).includes(key) &&
      (key !== 'locking' || typeof value === 'object')
    ) {
      check(value && typeof value === 'object', where, key, 'an object', value)
      for (const k in value) flat[`${key}.${k}`] = value[k as never]
    } else flat[key] = value
  }
  const known = Object.keys(rules)
  for (const [name, value] of Object.entries(flat)) {
    const rule = rules[name]
    if (!rule) {
      const guess = closest(name, known)
      invalid(
        where,
        name,
        `unknown option ${name}${guess ? ` (did you mean ${guess}?)` : ''}; allowed: ${known.join(', ')}`,
      )
    } else if (value !== undefined) check(rule[0](value as never), where, name, rule[1], value)
  }
  return flat
}

/** Checks a secret or list of secrets, from the options or SESSION_SECRET. */
export function checkSecrets(value: unknown, name = 'secret'): readonly string[] {
  const many = Array.isArray(value)
  const list = many ? value : [value]
  check(list.length, 'dynamoSession', name, 'a non-empty array', value)
  list.forEach((secret, i) => {
    check(
      typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH,
      'dynamoSession',
      many ? `${name}[${i}]` : name,
      `a string of at least ${MIN_SECRET_LENGTH} characters${many ? '' : ', or an array of them (the first signs)'}`,
      secret,
      typeof secret === 'string' ? `a string of ${secret.length} characters` : undefined,
    )
  })
  return list as string[]
}

/** Settings by option name, as the loop that fills them sees them. */
type ByName = Record<string, Record<string, unknown>>

/** Applies defaults and checks every option; throws INVALID_OPTIONS naming the option. */
export function settingsOf(options: DynamoSessionOptions = {}): Settings {
  const where = 'dynamoSession'
  // A deep copy of the defaults, then each option given (a group's members one by one).
  const s = plainCopy(DEFAULTS) as unknown as Settings & ByName
  for (const [path, value] of Object.entries(checkGiven(where, options, RULES))) {
    const [name, key] = path.split('.')
    if (value === undefined) continue
    if (key) s[name][key] = value
    else if (name !== 'locking') s[name] = value as ByName[string]
  }
  const { cookie, maxAge } = s
  cookie.sameSite =
    `${cookie.sameSite[0].toUpperCase()}${cookie.sameSite.slice(1).toLowerCase()}` as CookieAttributes['sameSite']
  // Browsers drop these cookies otherwise.
  check(
    cookie.secure ||
      (cookie.sameSite !== 'None' && !cookie.partitioned && !/^__(Host|Secure)-/.test(cookie.name)),
    where,
    'cookie.secure',
    "true with sameSite 'None', partitioned or a __Host-/__Secure- name",
    cookie.secure,
  )
  check(
    !cookie.name.startsWith('__Host-') || (cookie.path === '/' && !cookie.domain),
    where,
    'cookie.name',
    "free of the __Host- prefix unless path is '/' without domain",
    cookie.name,
  )
  s.touchAfter ??= Math.round(maxAge / 10)
  check(s.touchAfter <= maxAge, where, 'touchAfter', `at most maxAge (${maxAge})`, s.touchAfter)
  if (!options.locking) s.locking = undefined
  s.secrets = options.secret === undefined ? undefined : checkSecrets(options.secret)
  return s
}

/** Options some table tools take besides the connection; each tool names those it takes. */
export type ToolOption =
  | 'now'
  | 'onProgress'
  | 'userId'
  | 'handle'
  | 'except'
  | 'indexLagMs'
  | 'regions'

/** Of those, the ones a tool that takes them needs given. */
const REQUIRED: readonly ToolOption[] = ['userId', 'handle']

/** The rules of the table tools' own options (made on use: a Worker bundles none of them). */
function toolRules(): Record<ToolOption, Rule> {
  const handle: Rule = [
    (v: string) => typeof v === 'string' && v.length > 0 && v.length <= 256,
    'a session handle, as listSessions() or session.handle give it',
  ]
  return {
    now: [
      (v: number) => Number.isInteger(v) && v > 0 && v < 1e11,
      'a time in epoch seconds, an integer such as Math.floor(Date.now() / 1000)',
    ],
    onProgress: FUNCTION,
    userId: [
      (v: string) => typeof v === 'string' && v.length > 0 && v.length <= MAX_USER_ID,
      `a non-empty string of at most ${MAX_USER_ID} characters`,
    ],
    handle,
    except: handle,
    indexLagMs: int(0, 'milliseconds'),
    regions: [
      (v: string[]) =>
        Array.isArray(v) &&
        v.length > 0 &&
        new Set(v).size === v.length &&
        v.every((r) => CONNECTION.region[0](r as never)),
      "a list of distinct AWS regions such as ['us-east-1', 'eu-west-1']",
    ],
  }
}

/**
 * Checks the options of the table tool `tool` (`createSessionTable`, `sweepExpiredSessions`,
 * `listSessions`…) by the rules of `dynamoSession()`'s, and the environment variables that stand
 * in for the connection options; throws INVALID_OPTIONS naming the option or variable. The table
 * tools take static credentials only, and the options in `extra` besides: the sweep's `now`
 * (epoch seconds) and `onProgress`, the user tools' `userId`, `handle`, `except`, `indexLagMs`.
 */
export function checkToolOptions(
  tool: string,
  options: unknown,
  env: EnvRecord,
  extra: readonly ToolOption[] = [],
): void {
  const own = toolRules()
  const rules: Partial<Record<string, Rule>> = {
    ...CONNECTION,
    credentials: [
      isStaticCredentials,
      '{ accessKeyId, secretAccessKey, sessionToken? } with non-empty strings',
    ],
    env: [(v) => v && typeof v === 'object', 'an object of environment variables'],
  }
  for (const name of extra) rules[name] = own[name]
  const given = (options ?? {}) as Partial<Record<ToolOption, unknown>>
  if (extra.includes('now') && typeof given.now === 'number' && given.now >= 1e11) {
    invalid(
      tool,
      'now',
      `now must be ${own.now[1]}, got ${given.now}, which looks like milliseconds`,
    )
  }
  const flat = checkGiven(tool, options, rules)
  for (const name of extra) {
    if (REQUIRED.includes(name) && flat[name] === undefined) {
      check(false, tool, name, own[name][1], undefined)
    }
  }
  for (const name of ['table', 'region', 'endpoint'] as const) {
    const set = flat[name] === undefined && ENVIRONMENT[name].find((v) => env[v])
    const problem = set && problemOf(name, env[set])
    if (problem) invalid(tool, set, `the environment variable ${set} ${problem}`)
  }
}
