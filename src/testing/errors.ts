/**
 * @module The errors the in-memory DynamoDB answers with, typed and worded as DynamoDB Local's.
 */
const VALIDATION = 'com.amazon.coral.validate#ValidationException'
export const DDB = 'com.amazonaws.dynamodb.v20120810#'

/** An error answered as DynamoDB's JSON: `__type`, `Message` and any extra fields. */
export class DynamoError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly status: number = 400,
    /** In a transaction, this error cancels it with a ValidationError reason for the item. */
    readonly cancels: boolean = false,
  ) {
    super(message)
  }
}

/** DynamoDB Local's answer to a request it cannot read, such as invalid base64 in a binary. */
export const internalFailure = (): DynamoError =>
  new DynamoError(
    `${DDB}InternalFailure`,
    'The request processing has failed because of an unknown error, exception or failure.',
    {},
    500,
  )
export const invalid = (message: string): DynamoError => new DynamoError(VALIDATION, message)
/** A ValidationException that, in a transaction, becomes the item's cancellation reason. */
export const invalidItem = (message: string): DynamoError =>
  new DynamoError(VALIDATION, message, {}, 400, true)
export const notFound = (): DynamoError =>
  new DynamoError(`${DDB}ResourceNotFoundException`, 'Cannot do operations on a non-existent table')
export const conditionFailed = (item?: object): DynamoError =>
  new DynamoError(
    `${DDB}ConditionalCheckFailedException`,
    'The conditional request failed',
    item ? { Item: item } : {},
  )
export const MISSING_OPERAND =
  'The provided expression refers to an attribute that does not exist in the item'
export const BAD_OPERAND = 'An operand in the update expression has an incorrect data type'
export const BAD_PATH = 'The document path provided in the update expression is invalid for update'
