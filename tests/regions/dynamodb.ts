/**
 * @module The harness's own DynamoDB calls and item keys: one JSON-API call to a DynamoDB Local
 * (no signature, which it does not check) and the key of an item as one string.
 */

/** A DynamoDB attribute value (`{ S: 'x' }`, `{ N: '1' }`, `{ M: {…} }`…). */
export type AttributeValue = Record<string, unknown>
/** An item or a key in DynamoDB JSON. */
export type Item = Record<string, AttributeValue>
/** A request or answer body in DynamoDB JSON. */
// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
export type Json = Record<string, any>

/** DynamoDB answered with an error; `type` is the short `__type` (`ResourceNotFoundException`). */
export class DynamoDBCallError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(`${operation}: ${status} ${type}: ${message}`)
    this.name = 'DynamoDBCallError'
  }
}

const AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=harness/20200101/us-east-1/dynamodb/aws4_request, ' +
  'SignedHeaders=host, Signature=x'

/**
 * One call to `endpoint`; `target` is `DynamoDB_20120810.PutItem` or
 * `DynamoDBStreams_20120810.GetRecords`, or an operation name alone for the former.
 */
export async function call(endpoint: string, target: string, body: Json): Promise<Json> {
  const fullTarget = target.includes('.') ? target : `DynamoDB_20120810.${target}`
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': fullTarget,
      authorization: AUTHORIZATION,
    },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  const json = (text ? JSON.parse(text) : {}) as Json
  if (!response.ok) {
    const type =
      String(json.__type ?? 'Unknown')
        .split('#')
        .pop() ?? 'Unknown'
    throw new DynamoDBCallError(
      fullTarget.split('.').pop() ?? target,
      response.status,
      type,
      String(json.message ?? json.Message ?? text),
    )
  }
  return json
}

/** The key attributes of `item` as one string: equal keys give equal strings. */
export function keyId(keyNames: readonly string[], item: Item): string {
  return JSON.stringify(keyNames.map((name) => item[name]))
}

/** The key attributes of `item` alone. */
export function keyOf(keyNames: readonly string[], item: Item): Item {
  return Object.fromEntries(keyNames.map((name) => [name, item[name]]))
}

/** The current time in milliseconds, with the sub-millisecond part (one clock per process). */
export const now = (): number => performance.timeOrigin + performance.now()

/** Lets the process end while `timer` runs, so a test that forgets stop() still ends. */
export const unref = (timer: unknown): void =>
  (timer as { unref?: () => void } | undefined)?.unref?.()
