/**
 * @module A minimal DynamoDB JSON-API client: SigV4 by aws4fetch, retries with full jitter,
 * a timeout per attempt, and DynamoDB's errors turned into `DynamoSessionError` codes.
 */
import { AwsClient } from 'aws4fetch'
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

/** Sends one DynamoDB operation (`GetItem`, `UpdateItem`…) and returns its parsed JSON answer. */
// biome-ignore lint/suspicious/noExplicitAny: DynamoDB answers are JSON shaped by the operation
export type Send = (operation: string, input: Record<string, unknown>) => Promise<any>

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'Throttling',
])
const DENIED = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
])
const BACKOFF_BASE_MS = 25
const BACKOFF_CAP_MS = 1000

/** Full-jitter backoff before attempt `attempt` (1-based retries). */
export const backoff = (attempt: number): number =>
  Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt)

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Turns DynamoDB's error answer into a `DynamoSessionError`. */
export function parseError(
  status: number,
  text: string,
  where: { operation: string; table: string | undefined; region: string; endpoint: string },
): DynamoSessionError {
  let type = ''
  let detail = ''
  try {
    const json = JSON.parse(text)
    type = String(json.__type ?? '')
    detail = String(json.message ?? json.Message ?? '')
  } catch {
    detail = text.slice(0, 200)
  }
  type = type.slice(type.lastIndexOf('#') + 1)
  const table = where.table === undefined ? '' : ` table "${where.table}"`
  const place = `(region ${where.region}, endpoint ${where.endpoint})`
  const make = (code: DynamoSessionErrorCode, message: string) =>
    new DynamoSessionError(code, message, { awsType: type || undefined })
  if (THROTTLING.has(type) || status === 429) {
    return make('THROTTLED', `DynamoDB throttled ${where.operation} on${table}: ${type} ${detail}`)
  }
  if (status >= 500) {
    return make(
      'UNAVAILABLE',
      `DynamoDB answered ${status} to ${where.operation}: ${type} ${detail}`,
    )
  }
  if (type === 'ResourceNotFoundException') {
    return make(
      'TABLE_NOT_FOUND',
      `DynamoDB${table} was not found ${place}. Create it with \`npx dynamo-session create-table --table ${where.table ?? 'sessions'} --region ${where.region}\` or createSessionTable().`,
    )
  }
  if (DENIED.has(type) || status === 403) {
    return make(
      'ACCESS_DENIED',
      `DynamoDB refused ${where.operation} on${table} ${place}: ${type} ${detail}. Check the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and that the IAM policy allows dynamodb:${where.operation} on the table.`,
    )
  }
  if (type === 'ConditionalCheckFailedException') {
    return make('CONDITION_FAILED', `Conditional ${where.operation} failed on${table}`)
  }
  return make(
    'DYNAMODB',
    `DynamoDB ${where.operation} failed on${table} ${place}: ${type} ${detail}`,
  )
}

/**
 * Makes a `Send` for one configuration. The signing keys aws4fetch derives are cached inside it,
 * so callers keep one per configuration and reuse it across requests.
 */
export function createClient(config: ClientConfig): Send {
  const aws = new AwsClient({
    ...config.credentials,
    service: 'dynamodb',
    region: config.region,
    retries: 0,
  })
  const { attempts, timeoutMs, budgetMs } = config.retry
  const fetcher = config.fetch
  const endpoint = config.endpoint

  async function attempt(operation: string, body: string, table: string | undefined, ms: number) {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), ms)
    try {
      const request = await aws.sign(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${operation}`,
        },
        body,
        signal: controller.signal,
      })
      let status: number
      let text: string
      try {
        const response = await fetcher(request)
        status = response.status
        text = await response.text()
      } catch (cause) {
        throw controller.signal.aborted
          ? new DynamoSessionError('TIMEOUT', `DynamoDB ${operation} timed out after ${ms} ms`, {
              cause,
            })
          : new DynamoSessionError(
              'NETWORK',
              `DynamoDB ${operation} could not reach ${endpoint}: ${(cause as Error)?.message ?? cause}`,
              { cause },
            )
      }
      if (status >= 200 && status < 300) {
        try {
          return JSON.parse(text)
        } catch (cause) {
          throw new DynamoSessionError('NETWORK', `DynamoDB ${operation} sent a truncated answer`, {
            cause,
          })
        }
      }
      throw parseError(status, text, { operation, table, region: config.region, endpoint })
    } finally {
      clearTimeout(timer)
    }
  }

  return async function send(operation, input) {
    const deadline = Date.now() + budgetMs
    const body = JSON.stringify(input)
    const table = typeof input.TableName === 'string' ? input.TableName : undefined
    let last: DynamoSessionError | undefined
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
        if (!(error instanceof DynamoSessionError) || !error.transient) throw error
        last = error
      }
    }
    throw new DynamoSessionError(
      last?.code ?? 'TIMEOUT',
      `${last?.message ?? `DynamoDB ${operation} ran out of time`} (gave up within the retry budget of ${budgetMs} ms, ${attempts} attempts at most)`,
      { cause: last, awsType: last?.awsType },
    )
  }
}
