/**
 * @module The error class every failure of the library is reported with.
 */

/**
 * Stable error codes. Switch on these, never on the message text.
 *
 * - `INVALID_OPTIONS`: a bad option, thrown when `dynamoSession()` is called.
 * - `MISSING_CONFIG`: region or credentials could not be found at request time.
 * - `THROTTLED`, `UNAVAILABLE`, `TIMEOUT`, `NETWORK`: transient; retried, then answered with 503.
 * - `TABLE_NOT_FOUND`, `ACCESS_DENIED`: setup problems; answered with 500.
 * - `KEY_SCHEMA`: the table's key schema (or TTL attribute) is not the one sessions need.
 * - `CONDITION_FAILED`: a conditional write lost (the session was destroyed or expired meanwhile).
 * - `SESSION_GONE`: the session was destroyed or expired by another request while this one changed it.
 * - `TOO_LARGE`: the session would exceed DynamoDB's 400 KB item limit.
 * - `INVALID_DATA`: the stored session could not be read or failed the `schema`.
 * - `LOCK_TIMEOUT`, `LOCK_LOST`: the `locking` lease could not be taken, or was lost.
 * - `DYNAMODB`: any other error DynamoDB answered with.
 */
export type DynamoSessionErrorCode =
  | 'INVALID_OPTIONS'
  | 'MISSING_CONFIG'
  | 'THROTTLED'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'NETWORK'
  | 'TABLE_NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'KEY_SCHEMA'
  | 'CONDITION_FAILED'
  | 'SESSION_GONE'
  | 'TOO_LARGE'
  | 'INVALID_DATA'
  | 'LOCK_TIMEOUT'
  | 'LOCK_LOST'
  | 'DYNAMODB'

/**
 * The error thrown or reported by every part of the library.
 *
 * @example
 * ```ts
 * app.use(dynamoSession({
 *   onError: (err) => { if (err.code === 'THROTTLED') metrics.increment('session.throttled') },
 * }))
 * ```
 */
export class DynamoSessionError extends Error {
  /** What went wrong, as a stable code. */
  readonly code: DynamoSessionErrorCode
  /** DynamoDB's own error type (`ResourceNotFoundException`…), when DynamoDB answered. */
  readonly awsType: string | undefined

  constructor(
    code: DynamoSessionErrorCode,
    message: string,
    options?: { cause?: unknown; awsType?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DynamoSessionError'
    this.code = code
    this.awsType = options?.awsType
  }

  /** True for failures worth retrying later: the client answers them with 503. */
  get transient(): boolean {
    return /^(THROTTLED|UNAVAILABLE|TIMEOUT|NETWORK|LOCK_TIMEOUT)$/.test(this.code)
  }
}
