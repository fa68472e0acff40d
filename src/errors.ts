/**
 * @module The error class every failure of the library is reported with, and the HTTP status
 * each error code answers with.
 */
import { HTTPException } from 'hono/http-exception'

/**
 * Stable error codes. Switch on these, never on the message text.
 *
 * - `INVALID_OPTIONS`: a bad option, thrown when `dynamoSession()` is called (`option` names it).
 * - `MISSING_CONFIG`: region or credentials could not be found at request time, or the
 *   environment could not be read (`option` names what is missing).
 * - `CREDENTIALS`: the `credentials` function threw (503 when it could not reach its source).
 * - `THROTTLED`, `UNAVAILABLE`, `TIMEOUT`, `NETWORK`: transient; retried, then answered with 503.
 * - `CONTENDED`: the session kept changing under a `regenerate()` or whole-map write; 503.
 * - `TABLE_NOT_FOUND`, `ACCESS_DENIED`, `KEY_SCHEMA` (the table's key schema, TTL attribute or user
 *   index is not the one sessions need), `INDEX_NOT_FOUND` (the table has no user index, which
 *   `listSessions()` and the revoking functions read): setup problems; answered with 500.
 * - `CONDITION_FAILED`: a conditional write lost.
 * - `SESSION_GONE`: another request ended the session (logout, login elsewhere) or it expired
 *   while this request changed it; nothing was saved; 409.
 * - `TOO_LARGE`: the session would exceed DynamoDB's 400 KB item limit.
 * - `INVALID_DATA`: the stored session could not be read or failed the `schema`.
 * - `NOT_A_NUMBER`: `increment()` met a stored value that is not a number.
 * - `LOCK_TIMEOUT`, `LOCK_LOST`: the `locking` lease could not be taken, or was lost.
 * - `DYNAMODB`: any other error DynamoDB answered with.
 */
export type DynamoSessionErrorCode =
  | 'INVALID_OPTIONS'
  | 'MISSING_CONFIG'
  | 'CREDENTIALS'
  | 'THROTTLED'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'NETWORK'
  | 'CONTENDED'
  | 'TABLE_NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'KEY_SCHEMA'
  | 'INDEX_NOT_FOUND'
  | 'CONDITION_FAILED'
  | 'SESSION_GONE'
  | 'TOO_LARGE'
  | 'INVALID_DATA'
  | 'NOT_A_NUMBER'
  | 'LOCK_TIMEOUT'
  | 'LOCK_LOST'
  | 'DYNAMODB'

/** The status each code answers with: 503 (retry later, with `Retry-After`), 409 or 500. */
export const STATUS: Record<DynamoSessionErrorCode, 409 | 500 | 503> = {
  INVALID_OPTIONS: 500,
  MISSING_CONFIG: 500,
  CREDENTIALS: 500,
  THROTTLED: 503,
  UNAVAILABLE: 503,
  TIMEOUT: 503,
  NETWORK: 503,
  CONTENDED: 503,
  TABLE_NOT_FOUND: 500,
  ACCESS_DENIED: 500,
  KEY_SCHEMA: 500,
  INDEX_NOT_FOUND: 500,
  CONDITION_FAILED: 500,
  SESSION_GONE: 409,
  TOO_LARGE: 500,
  INVALID_DATA: 500,
  NOT_A_NUMBER: 500,
  LOCK_TIMEOUT: 503,
  LOCK_LOST: 503,
  DYNAMODB: 500,
}

/** What an error may carry besides its code and message. */
export interface DynamoSessionErrorFields {
  cause?: unknown
  /** DynamoDB's own error type, when DynamoDB answered. */
  awsType?: string
  /** The option or environment variable at fault (INVALID_OPTIONS, MISSING_CONFIG). */
  option?: string
  /** Overrides the code's status: a `credentials` function that could not reach its source. */
  status?: 409 | 500 | 503
  /** The item DynamoDB returned with a failed condition. */
  item?: Record<string, unknown>
}

/**
 * The error thrown or reported by every part of the library. It is an `HTTPException` that
 * carries the response it stands for: 503 with `Retry-After` for transient failures, 409 for
 * `SESSION_GONE`, 500 otherwise, each with a short generic body. The message, with the detail
 * (table, region, endpoint, DynamoDB's own words), is for logs only.
 *
 * @example
 * ```ts
 * app.onError((err, c) => {
 *   if (err instanceof DynamoSessionError) metrics.increment(`session.${err.code}`)
 *   return err instanceof HTTPException ? err.getResponse() : c.text('Internal Server Error', 500)
 * })
 * ```
 */
export class DynamoSessionError extends HTTPException {
  /** What went wrong, as a stable code. */
  declare readonly code: DynamoSessionErrorCode
  /** DynamoDB's own error type (`ResourceNotFoundException`…), when DynamoDB answered. */
  declare readonly awsType: string | undefined
  /** The option or environment variable at fault, for `INVALID_OPTIONS` and `MISSING_CONFIG`. */
  declare readonly option: string | undefined
  /** The item DynamoDB returned with a failed condition. @internal */
  declare readonly item: Record<string, unknown> | undefined
  /** How many attempts the call made before this answer. @internal */
  declare attempts: number | undefined

  constructor(
    code: DynamoSessionErrorCode,
    message: string,
    fields: DynamoSessionErrorFields = {},
  ) {
    super(fields.status ?? STATUS[code], { message, cause: fields.cause })
    this.name = 'DynamoSessionError'
    this.code = code
    this.awsType = fields.awsType
    this.option = fields.option
    this.item = fields.item
  }

  /** True for failures worth retrying later: answered with 503 and `Retry-After`. */
  get transient(): boolean {
    return this.status === 503
  }

  /** A new generic response for this error, safe to send to any client. */
  override getResponse(): Response {
    const s = this.status
    return new Response(
      s === 503 ? 'Service Unavailable' : s === 409 ? 'Conflict' : 'Internal Server Error',
      { status: s, headers: s === 503 ? { 'Retry-After': '1' } : undefined },
    )
  }
}

/** Any failure as a `DynamoSessionError`: its own, or `code` with the failure as its cause. */
export const asSessionError = (
  error: unknown,
  code: DynamoSessionErrorCode = 'DYNAMODB',
): DynamoSessionError =>
  error instanceof DynamoSessionError
    ? error
    : new DynamoSessionError(code, (error as Error)?.message ?? String(error), { cause: error })
