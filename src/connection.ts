/**
 * @module Where the table is and how to sign for it: the environment variables every part of
 * the library reads (middleware, table tools, CLI), credentials, one client per configuration,
 * and the time budget one request's DynamoDB calls share.
 */
import {
  type ClientConfig,
  type Credentials,
  type RetryOptions,
  regionEndpoint,
  type Send,
  sleep,
  within,
} from './client.ts'
import { DynamoSessionError } from './errors.ts'

/** Environment variables as `env(c)` or `process.env` give them. */
export type EnvRecord = Record<string, string | undefined>

/** The environment variables each setting falls back to, in order of precedence. */
export const ENVIRONMENT = {
  table: ['SESSION_TABLE'],
  region: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
  endpoint: ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL'],
  secret: ['SESSION_SECRET'],
} as const

/** The first variable set for a setting, with its name, or undefined. */
export function fromEnv(
  setting: keyof typeof ENVIRONMENT,
  env: EnvRecord,
): { variable: string; value: string } | undefined {
  for (const variable of ENVIRONMENT[setting]) {
    const value = env[variable]
    if (value) return { variable, value }
  }
}

/** The connection options every DynamoDB user of the library takes: the middleware and the table tools. */
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

const missing = (option: string, message: string) =>
  new DynamoSessionError('MISSING_CONFIG', message, { option })

/** Fills connection options from the environment; throws MISSING_CONFIG naming the ways to set them. */
export function resolveConnection(
  o: Omit<ConnectionOptions, 'credentials'>,
  credentials: Credentials | undefined,
  env: EnvRecord,
): Connection {
  const region = o.region ?? fromEnv('region', env)?.value
  if (!region) {
    throw missing('region', 'No AWS region: pass region or set AWS_REGION (or AWS_DEFAULT_REGION)')
  }
  const creds = credentials ?? {
    accessKeyId: env.AWS_ACCESS_KEY_ID as string,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
    sessionToken: env.AWS_SESSION_TOKEN || undefined,
  }
  if (!hasKeys(creds)) {
    throw missing(
      'credentials',
      'No AWS credentials: pass credentials or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    )
  }
  return {
    table: o.table ?? fromEnv('table', env)?.value ?? 'sessions',
    region,
    endpoint: o.endpoint ?? fromEnv('endpoint', env)?.value ?? regionEndpoint(region),
    credentials: creds,
    fetch: o.fetch ?? globalFetch,
  }
}

/** Credentials with an access key id and a secret access key, both non-empty strings. */
export const hasKeys = (c: Credentials | undefined): boolean =>
  [c?.accessKeyId, c?.secretAccessKey].every((v) => v && typeof v === 'string')

/**
 * Calls a credentials function within `ms` and checks what it returns. What it throws is
 * `CREDENTIALS`: 503 when it could not reach its source (a network error or no answer in time).
 */
export async function callCredentials<C>(
  fn: (c: C) => Credentials | Promise<Credentials>,
  c: C,
  ms: number,
): Promise<Credentials> {
  let got: Credentials
  try {
    got = await within(fn(c), ms, 'the credentials function')
  } catch (cause) {
    throw new DynamoSessionError(
      'CREDENTIALS',
      `credentials function failed: ${(cause as Error)?.message ?? String(cause)}`,
      // A metadata service or STS out of reach is worth a retry later.
      { cause, status: isNetworkFailure(cause) ? 503 : undefined },
    )
  }
  if (!hasKeys(got)) {
    throw missing(
      'credentials',
      'credentials function returned no { accessKeyId, secretAccessKey }',
    )
  }
  return got
}

/** No answer in time, or a fetch that got none: a TypeError (fetch's own) or a socket error code. */
const isNetworkFailure = (error: unknown): boolean =>
  error instanceof TypeError ||
  /^(E[A-Z]+|TIMEOUT)$/.test(String((error as { code?: unknown })?.code))

/** Clients kept per configuration; more than this (rotating credentials) drops the oldest. */
const MAX_CLIENTS = 16

/**
 * One client per distinct configuration, so aws4fetch's derived signing keys are reused; more
 * than `MAX_CLIENTS` (rotating credentials) drops the oldest.
 */
export function clientCache(
  make: (config: ClientConfig) => Send,
): (conn: Connection, retry: RetryOptions) => Send {
  const clients = new Map<string, Send>()
  return (conn, retry) => {
    const { region, endpoint, credentials: k } = conn
    // join() writes an absent session token as ''.
    const key = [region, endpoint, k.accessKeyId, k.secretAccessKey, k.sessionToken].join('\n')
    let send = clients.get(key)
    if (!send) {
      send = make({ ...conn, retry })
      clients.set(key, send)
      if (clients.size > MAX_CLIENTS) clients.delete(clients.keys().next().value as string)
    }
    return send
  }
}

/** A table and the client that reaches it. */
export interface SessionTable {
  send: Send
  name: string
}

/** The table of one request: its DynamoDB calls share one time budget; `raw` is outside it. */
export interface RequestTable extends SessionTable {
  raw: SessionTable
  /** Milliseconds of the budget left. */
  left(): number
  /** Waits, drawing on the budget (a wait for a lease is inside it). */
  sleep(ms: number): Promise<void>
}

/** A table whose calls draw on one budget of `ms`, counted from `started`. */
export function budgeted(raw: SessionTable, ms: number, started: number): RequestTable {
  let left = ms - (Date.now() - started)
  return {
    name: raw.name,
    raw,
    left: () => left,
    async sleep(ms) {
      left -= ms
      await sleep(ms)
    },
    async send(op, input) {
      const t = Date.now()
      try {
        return await raw.send(op, input, Math.max(left, 1))
      } finally {
        left -= Date.now() - t
      }
    },
  }
}
