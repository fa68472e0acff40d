/**
 * @module JSON values to and from DynamoDB attribute values, lossless for every JSON value.
 */

/** A value JSON can carry. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue }

/** A DynamoDB attribute value, as far as this library writes and reads them. */
export type AttributeValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { BOOL: boolean }
  | { NULL: true }
  | { L: AttributeValue[] }
  | { M: Record<string, AttributeValue> }

// DynamoDB numbers span 1e-130 to 1e126 in magnitude. A double outside that range is stored as
// binary holding its decimal text: JSON has no binary, so B is never ambiguous.
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
export const inNumberRange = (n: number): boolean => {
  const a = Math.abs(n)
  return a === 0 || (a >= 1e-130 && a < 1e126)
}

/** How many arrays and objects a value may hold one inside the other (DynamoDB allows 31 levels). */
const MAX_NESTING = 30

/**
 * Describes why `value` is not a JSON value, or returns undefined when it is one.
 * Plain objects only: class instances, Dates and Maps are refused rather than silently flattened.
 */
export function whyNotJson(value: unknown, seen: unknown[] = []): string | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value) ? undefined : `${value} is not a finite number`
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined
  if (typeof value !== 'object') {
    return `${typeof value === 'bigint' ? 'a BigInt' : typeof value} is not a JSON value`
  }
  if (seen.includes(value)) return 'it contains a circular reference'
  // The session's `data` (or `flash`) map is one of the 31 levels DynamoDB allows.
  if (seen.length >= MAX_NESTING) return `it nests more than ${MAX_NESTING} arrays and objects`
  const array = Array.isArray(value)
  const proto = Object.getPrototypeOf(value)
  if (!array && proto !== Object.prototype && proto !== null) {
    return `a ${proto.constructor?.name ?? 'class'} instance is not a plain object`
  }
  if (array && Object.keys(value).length !== value.length)
    return 'a sparse array is not a JSON value'
  for (const key of Object.keys(value)) {
    if (key === '') return 'an empty key is not allowed'
    const why = whyNotJson((value as Record<string, unknown>)[key], [...seen, value])
    if (why) return `${array ? `[${key}]` : `.${key}`}: ${why}`
  }
}

/**
 * A new object of the entries `f` makes of each of `object`'s own entries. (fromEntries defines
 * keys, so `__proto__` stays an ordinary key.)
 */
export const mapEntries = <V, W>(
  object: Record<string, V>,
  f: (entry: [string, V]) => [string, W],
): Record<string, W> => Object.fromEntries(Object.entries(object).map(f))

/**
 * Copies plain objects and arrays deeply; anything else is kept as it is (a JSON value is copied
 * whole).
 */
export const plainCopy = <T>(v: T): T =>
  (Array.isArray(v)
    ? v.map(plainCopy)
    : v && Object.getPrototypeOf(v) === Object.prototype
      ? mapEntries(v, ([k, x]) => [k, plainCopy(x)])
      : v) as T

/** Marshals a JSON value (already checked with `whyNotJson`). */
export function toAttribute(value: JsonValue): AttributeValue {
  if (value === null) return { NULL: true }
  switch (typeof value) {
    case 'string':
      return { S: value }
    case 'boolean':
      return { BOOL: value }
    case 'number':
      return inNumberRange(value) ? { N: String(value) } : { B: btoa(String(value)) }
  }
  if (Array.isArray(value)) return { L: value.map(toAttribute) }
  return { M: toAttributeMap(value) }
}

/** Marshals every entry of a plain object. */
export function toAttributeMap(
  object: Record<string, JsonValue | undefined>,
): Record<string, AttributeValue> {
  return Object.fromEntries(
    Object.entries(object)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, toAttribute(v as JsonValue)]),
  )
}

/** Unmarshals an attribute value; throws on a type this library never writes. */
export function fromAttribute(attribute: AttributeValue): JsonValue {
  const [type, v] = (Object.entries(attribute)[0] ?? []) as [string?, unknown?]
  switch (type) {
    case 'S':
    case 'BOOL':
      return v as string | boolean
    case 'N':
      return Number(v)
    case 'NULL':
      return null
    case 'M':
      return fromAttributeMap(v as Record<string, AttributeValue>)
    case 'L':
      return (v as AttributeValue[]).map(fromAttribute)
    case 'B':
      return Number(atob(v as string))
  }
  throw new TypeError(`unsupported attribute type ${type}`)
}

/** Unmarshals a map attribute's entries into a plain object. */
export function fromAttributeMap(map: Record<string, AttributeValue>): Record<string, JsonValue> {
  return mapEntries(map, ([k, v]) => [k, fromAttribute(v)])
}

/** UTF-8 length of a string, without allocating. */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

/**
 * The size DynamoDB counts for an attribute value, by its published rules (names and strings in
 * UTF-8, numbers about one byte per two digits, three bytes per map or list plus one per entry).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function attributeSize(attribute: AttributeValue): number {
  const { S, N, B, M, L } = attribute as {
    S?: string
    N?: string
    B?: string
    M?: Item
    L?: AttributeValue[]
  }
  if (S !== undefined) return utf8Length(S)
  if (N !== undefined) return Math.ceil(N.length / 2) + 1
  if (B !== undefined) return B.length
  if (M) return 3 + mapSize(M)
  if (!L) return 1
  let size = 3
  for (const item of L) size += 1 + attributeSize(item)
  return size
}

type Item = Record<string, AttributeValue>

/** Size of a map's entries (names, values and one byte each), as in an item or an M value. */
export function mapSize(map: Record<string, AttributeValue>): number {
  let size = 0
  for (const key in map) size += utf8Length(key) + 1 + attributeSize(map[key])
  return size
}
