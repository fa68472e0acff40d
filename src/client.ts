/**
 * @module A minimal DynamoDB JSON-API client: SigV4 by aws4fetch, retries with full jitter,
 * a timeout per attempt, and DynamoDB's errors turned into `DynamoSessionError` codes.
 */
import { AwsV4Signer } from 'aws4fetch'
import { DynamoSessionError, type DynamoSessionErrorCode } from './errors.ts'

/** AWS credentials, static or from STS. */
export interface Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** How hard one DynamoDB call is tried before the request gives up with 503. */
export interface RetryOptions {
  /** Attempts per DynamoDB call, the first included. */
  attempts: number
  /** Timeout of each attempt, in milliseconds. */
  timeoutMs: number
  /** All attempts of one call, backoff included, end within this many milliseconds. */
  budgetMs: number
}

/** Everything one client needs; one client is made per distinct configuration. */
export interface ClientConfig {
  region: string
  endpoint: string
  credentials: Credentials
  fetch: typeof fetch
  retry: RetryOptions
}

/**
 * Sends one DynamoDB operation (`GetItem`, `UpdateItem`…) and returns its parsed JSON answer;
 * `budgetMs` caps this call's attempts below `retry.budgetMs`.
 */
export type Send = (
  operation: string,
  input: Record<string, unknown>,
  budgetMs?: number,
  // biome-ignore lint/suspicious/noExplicitAny: DynamoDB answers are JSON shaped by the operation
) => Promise<any>

/**
 * The code of a DynamoDB error answer, by its status, type and message (`429 ThrottlingException
 * Rate exceeded`); the first match wins, else `DYNAMODB`.
 */
const CODES: [RegExp, DynamoSessionErrorCode][] = [
  [/^5/, 'UNAVAILABLE'],
  [/^429|Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded/, 'THROTTLED'],
  [/ResourceNotFound/, 'TABLE_NOT_FOUND'],
  [/ConditionalCheckFailed/, 'CONDITION_FAILED'],
  [
    /AccessDenied|UnrecognizedClient|Signature|AuthenticationToken|ExpiredToken|ClientTokenId/,
    'ACCESS_DENIED',
  ],
  // DynamoDB says this of a table whose key is not `id` alone: every key sent is `id`.
  [/key element does not match the schema|required keys was not given/, 'KEY_SCHEMA'],
  [/incorrect data type/, 'NOT_A_NUMBER'],
  [/^403/, 'ACCESS_DENIED'],
]

/** The failures a call is retried on: DynamoDB busy or out of reach. */
const RETRYABLE: ReadonlySet<DynamoSessionErrorCode> = new Set([
  'THROTTLED',
  'UNAVAILABLE',
  'TIMEOUT',
  'NETWORK',
])

/** Full-jitter backoff before retry `attempt` (1, 2, …): random up to 25 ms × 2^attempt, capped at 1 s. */
export const backoff = (attempt: number): number =>
  Math.random() * Math.min(1000, 25 * 2 ** attempt)

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Rejects with a TIMEOUT error after `ms`, whatever the promise does, calling `onTimeout` then
 * (to abort what the promise waits for).
 */
export function within<T>(
  promise: T | Promise<T>,
  ms: number,
  what: string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout?.()
        reject(new DynamoSessionError('TIMEOUT', `${what} did not settle within ${ms} ms`))
      }, ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/** The endpoint DynamoDB has in a region. */
export const regionEndpoint = (region: string): string => `https://dynamodb.${region}.amazonaws.com`

/** What every message about a call starts with: the operation, table, region and endpoint. */
const callOf = (operation: string, table: string | undefined, c: ClientConfig) =>
  `DynamoDB ${operation} on table "${table}" in ${c.region} at ${c.endpoint}`

/** Turns DynamoDB's error answer into a `DynamoSessionError`. */
export function parseError(
  status: number,
  text: string,
  operation: string,
  table: string | undefined,
  config: ClientConfig,
): DynamoSessionError {
  let type = ''
  let detail = text.slice(0, 200)
  let item: Record<string, unknown> | undefined
  try {
    const json = JSON.parse(text)
    type = String(json.__type ?? '')
    detail = json.message ?? json.Message ?? ''
    item = json.Item
  } catch {}
  type = type.slice(type.lastIndexOf('#') + 1)
  const code =
    CODES.find(([pattern]) => pattern.test(`${status} ${type} ${detail}`))?.[1] ?? 'DYNAMODB'
  const endpoint =
    config.endpoint === regionEndpoint(config.region) ? '' : ` --endpoint ${config.endpoint}`
  const fix =
    code === 'TABLE_NOT_FOUND'
      ? `. Create it: npx @dynamo-session/hono create-table --table ${table} --region ${config.region}${endpoint}`
      : code === 'ACCESS_DENIED'
        ? `. Check the credentials and that the IAM policy allows dynamodb:${operation}`
        : code === 'KEY_SCHEMA'
          ? '. Its key must be id (S, HASH) alone, as create-table makes it'
          : ''
  return new DynamoSessionError(
    code,
    `${callOf(operation, table, config)} failed with ${status} ${type}: ${String(detail).replace(/\.$/, '')}${fix}`,
    { awsType: type || undefined, item },
  )
}

/** The socket-level reason under a fetch failure (`ECONNREFUSED`, `ENOTFOUND`…), if any. */
function reasonOf(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; i++) {
    if (typeof e.code === 'string') return e.code
    e = e.cause as typeof e
  }
}

/** A failure to get any answer: refused, reset, unresolved, or the attempt's timeout. */
function networkError(
  operation: string,
  table: string | undefined,
  config: ClientConfig,
  cause: unknown,
  timedOut: number | undefined,
): DynamoSessionError {
  const reason = reasonOf(cause)
  // The reason names the failure (ENOTFOUND, ECONNREFUSED); the hint is its likely fix.
  const hint = /NOTFOUND|DNS/i.test(reason ?? '')
    ? config.endpoint === regionEndpoint(config.region)
      ? `; is "${config.region}" an AWS region?`
      : "; check the endpoint's host"
    : /REFUSED/i.test(reason ?? '')
      ? '; is DynamoDB running there?'
      : ''
  return new DynamoSessionError(
    timedOut === undefined ? 'NETWORK' : 'TIMEOUT',
    `${callOf(operation, table, config)} ${timedOut === undefined ? `failed: ${(cause as Error)?.message ?? cause}${reason ? ` (${reason})` : ''}${hint}` : `timed out after ${timedOut} ms`}`,
    { cause },
  )
}

/**
 * Makes a `Send` for one configuration. The signing keys aws4fetch derives are cached inside it,
 * so callers keep one per configuration and reuse it across requests.
 */
export function createClient(config: ClientConfig): Send {
  // One cache per client: aws4fetch keeps the derived signing keys in it.
  const cache = new Map()
  const { attempts, timeoutMs, budgetMs } = config.retry

  async function attempt(operation: string, body: string, table: string | undefined, ms: number) {
    const controller = new AbortController()
    let status = 0
    let text = ''
    const exchange = async () => {
      const signed = await new AwsV4Signer({
        ...config.credentials,
        url: config.endpoint,
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${operation}`,
        },
        body,
        service: 'dynamodb',
        region: config.region,
        cache,
      }).sign()
      const response = await config.fetch(signed.url, { ...signed, signal: controller.signal })
      status = response.status
      text = await response.text()
    }
    try {
      // A fetch that ignores the signal is still cut off at the timeout.
      await within(exchange(), ms, operation, () => controller.abort())
      if (status < 300) return JSON.parse(text)
    } catch (cause) {
      // A reset, a refused connection, a truncated answer or the timeout: all worth a retry.
      throw networkError(
        operation,
        table,
        config,
        cause,
        controller.signal.aborted ? ms : undefined,
      )
    }
    throw parseError(status, text, operation, table, config)
  }

  return async function send(operation, input, budget = budgetMs) {
    const deadline = Date.now() + Math.min(budget, budgetMs)
    const body = JSON.stringify(input)
    const table = input.TableName as string | undefined
    let last: unknown
    for (let n = 0; n < attempts; n++) {
      if (n > 0) {
        const delay = backoff(n)
        if (Date.now() + delay >= deadline) break
        await sleep(delay)
      }
      const remaining = deadline - Date.now()
      if (remaining <= 0) break
      try {
        return await attempt(operation, body, table, Math.min(timeoutMs, remaining))
      } catch (error) {
        const e = error as DynamoSessionError
        if (!RETRYABLE.has(e.code)) {
          // Whether an earlier attempt may have been applied: the caller's exactly-once rule needs it.
          e.attempts = n + 1
          throw e
        }
        last = error
      }
    }
    throw (
      last ??
      new DynamoSessionError(
        'TIMEOUT',
        `${callOf(operation, table, config)}: retry.budgetMs (${budgetMs} ms) ran out`,
      )
    )
  }
}
