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

const THROTTLING = /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded/
const DENIED =
  /AccessDenied|UnrecognizedClient|Signature|AuthenticationToken|ExpiredToken|ClientTokenId/

/** Full-jitter backoff before retry `attempt` (1, 2, …): random up to 25 ms × 2^attempt, capped at 1 s. */
export const backoff = (attempt: number): number =>
  Math.random() * Math.min(1000, 25 * 2 ** attempt)

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Turns DynamoDB's error answer into a `DynamoSessionError`. */
export function parseError(
  status: number,
  text: string,
  operation: string,
  table: string | undefined,
  config: Pick<ClientConfig, 'region' | 'endpoint'>,
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
  const invalid = type === 'ValidationException'
  const code: DynamoSessionErrorCode =
    THROTTLING.test(type) || status === 429
      ? 'THROTTLED'
      : status >= 500
        ? 'UNAVAILABLE'
        : type === 'ResourceNotFoundException'
          ? 'TABLE_NOT_FOUND'
          : type === 'ConditionalCheckFailedException'
            ? 'CONDITION_FAILED'
            : DENIED.test(type) || status === 403
              ? 'ACCESS_DENIED'
              : invalid && /key element does not match the schema/.test(detail)
                ? 'KEY_SCHEMA'
                : invalid && /incorrect data type/.test(detail)
                  ? 'NOT_A_NUMBER'
                  : 'DYNAMODB'
  const fix =
    code === 'TABLE_NOT_FOUND'
      ? `. Create it with \`npx @dynamo-session/hono create-table --table ${table} --region ${config.region}\` or createSessionTable()`
      : code === 'ACCESS_DENIED'
        ? `. Check the credentials and that the IAM policy allows dynamodb:${operation} on the table`
        : code === 'KEY_SCHEMA'
          ? `. The table's key must be "id" (string, hash key) alone: create one with \`npx @dynamo-session/hono create-table\``
          : code === 'NOT_A_NUMBER'
            ? '. increment() met a stored value that is not a number'
            : ''
  const error = new DynamoSessionError(
    code,
    `DynamoDB ${operation} on table "${table}" (region ${config.region}, endpoint ${config.endpoint}) failed with ${status} ${type}: ${detail}${fix}`,
    { awsType: type || undefined },
  )
  error.item = item
  return error
}

/**
 * Makes a `Send` for one configuration. The signing keys aws4fetch derives are cached inside it,
 * so callers keep one per configuration and reuse it across requests.
 */
export function createClient(config: ClientConfig): Send {
  // One cache per client: aws4fetch keeps the derived signing keys in it.
  const cache = new Map()
  const { attempts, timeoutMs, budgetMs } = config.retry
  const fetcher = config.fetch
  const endpoint = config.endpoint

  async function attempt(operation: string, body: string, table: string | undefined, ms: number) {
    const controller = new AbortController()
    // A fetch that ignores the signal is still cut off at the timeout.
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort()
        reject(new Error('timeout'))
      }, ms)
    })
    timeout.catch(() => {})
    let status = 0
    let text: string
    try {
      const signed = await new AwsV4Signer({
        ...config.credentials,
        url: endpoint,
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
      const response = await Promise.race([
        fetcher(signed.url, { ...signed, signal: controller.signal }),
        timeout,
      ])
      status = response.status
      text = await Promise.race([response.text(), timeout])
      if (status < 300) return JSON.parse(text)
    } catch (cause) {
      // A reset, a refused connection, a truncated answer or the timeout: all worth a retry.
      throw new DynamoSessionError(
        controller.signal.aborted ? 'TIMEOUT' : 'NETWORK',
        `DynamoDB ${operation} at ${endpoint} ${controller.signal.aborted ? `timed out after ${ms} ms` : `failed: ${(cause as Error)?.message ?? cause}`}`,
        { cause },
      )
    } finally {
      clearTimeout(timer)
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
        if (!(error as DynamoSessionError).transient) throw error
        last = error
      }
    }
    throw (
      last ??
      new DynamoSessionError(
        'TIMEOUT',
        `DynamoDB ${operation}: retry.budgetMs (${budgetMs} ms) ran out for this request`,
      )
    )
  }
}
