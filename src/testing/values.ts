/**
 * @module DynamoDB attribute values: their checks on the way in, and equality and order as
 * conditions and keys see them.
 */
import { utf8Length } from '../marshall.ts'
import { decodeBase64, encodeBase64 } from './base64.ts'
import { invalid } from './errors.ts'
import { compareNumbers, normalizeNumber, parseNumber } from './numbers.ts'

/** A DynamoDB attribute value as the JSON API carries it (`{ S: 'x' }`, `{ N: '1' }`, …). */
// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
export type AttributeValue = Record<string, any>
/** A DynamoDB item: attribute name to attribute value. */
export type Item = Record<string, AttributeValue>
/** A request's JSON body. */
// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON requests
export type Input = Record<string, any>

export const TYPES: string[] = ['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL']
export const typeOf = (v: AttributeValue): string => Object.keys(v)[0]
/** The byte length of a canonical base64 text. */
export const base64Length = (b: string): number => {
  const clean = b.replace(/=+$/, '')
  return Math.floor((clean.length * 3) / 4)
}
const setName: Record<string, string> = { SS: 'string', NS: 'number', BS: 'binary' }

/** How deep maps and lists may nest: in an item's attribute, and in an expression value. */
export const ITEM_NESTING = 31
export const VALUE_NESTING = 32
const TOO_DEEP =
  'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit'
/** Attribute names and map keys are at most 65,535 bytes of UTF-8. */
const MAX_NAME_BYTES = 65535

/** Refuses an empty attribute name or map key, or one of 64 KB or more. */
export function checkName(name: string): void {
  if (name === '') throw invalid('Empty attribute name')
  // Three bytes at most per UTF-16 unit: a shorter name needs no counting.
  if (name.length > MAX_NAME_BYTES / 3 && utf8Length(name) > MAX_NAME_BYTES) {
    throw invalid('Attribute name is too large, must be less than 65536 bytes')
  }
}

/**
 * Checks an attribute value and returns a normalised copy (numbers and binaries in canonical
 * form). `depth` counts the maps and lists around it, the attribute's own included: a map or
 * list deeper than `limit` is refused, before anything inside it is looked at.
 */
export function checkValue(
  v: unknown,
  depth: number = 1,
  limit: number = ITEM_NESTING,
): AttributeValue {
  const type = typeOfInput(v)
  const value = (v as AttributeValue)[type]
  switch (type) {
    case 'S':
      if (typeof value !== 'string') throw invalid(`Invalid ${type} value`)
      return { S: value }
    case 'B':
      if (typeof value !== 'string') throw invalid(`Invalid ${type} value`)
      return { B: canonicalBinary(value) }
    case 'N':
      return { N: normalizeNumber(value) }
    case 'BOOL':
      return { BOOL: value === true || value === 'true' }
    case 'NULL':
      if (value !== true && value !== 'true') {
        throw invalid(
          'One or more parameter values were invalid: Null attribute value types must have the value of true',
        )
      }
      return { NULL: true }
    case 'L':
      if (depth > limit) throw invalid(TOO_DEEP)
      if (!Array.isArray(value)) throw invalid('Invalid L value')
      return { L: value.map((e) => checkValue(e, depth + 1, limit)) }
    case 'M': {
      if (depth > limit) throw invalid(TOO_DEEP)
      if (typeof value !== 'object' || Array.isArray(value)) throw invalid('Invalid M value')
      const out: Item = {}
      for (const k of Object.keys(value)) {
        checkName(k)
        put(out, k, checkValue(value[k], depth + 1, limit))
      }
      return { M: out }
    }
    default:
      return { [type]: checkSet(type, value) }
  }
}

/** The one type an attribute value names. */
function typeOfInput(v: unknown): string {
  const empty =
    'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes'
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid(empty)
  const keys = Object.keys(v).filter((k) => (v as AttributeValue)[k] != null)
  if (keys.length === 0 || !TYPES.includes(keys[0])) throw invalid(empty)
  if (keys.length > 1) {
    throw invalid(
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    )
  }
  return keys[0]
}

function canonicalBinary(text: string): string {
  const bytes = decodeBase64(text)
  // The dispatcher refuses invalid base64 before any operation runs.
  if (!bytes) throw new Error('invalid base64 reached an operation')
  return encodeBase64(bytes)
}

/**
 * A set's members in DynamoDB Local's order: numbers by value, binaries by unsigned bytes,
 * strings by UTF-16 code units (Java's String order) as sent, or by UTF-8 bytes once ADD or
 * DELETE has changed the set (the two differ only past U+D7FF).
 */
export function sortSet(type: string, members: string[], changed = false): string[] {
  if (type === 'NS') {
    return members.sort((a, b) => compareNumbers(parseNumber(a), parseNumber(b)))
  }
  if (type === 'BS' || changed) {
    const t = type[0]
    return members.sort((a, b) => compareBytes(bytesOf({ [t]: a }), bytesOf({ [t]: b })))
  }
  return members.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/** Checks a set's members: not empty, each valid, none twice (as DynamoDB Local words each). */
function checkSet(type: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid(
      `One or more parameter values were invalid: An ${setName[type]} set  may not be empty`,
    )
  }
  const members =
    type === 'NS'
      ? value.map(normalizeNumber)
      : type === 'BS'
        ? value.map((b) => canonicalBinary(String(b)))
        : value.map(String)
  if (new Set(members).size === members.length) return sortSet(type, members)
  if (type === 'NS') throw invalid('Input collection contains duplicates')
  if (type === 'BS') {
    throw invalid(
      'One or more parameter values were invalid: Input collection of type BS contains duplicates.',
    )
  }
  throw invalid(
    `One or more parameter values were invalid: Input collection [${value.join(', ')}] contains duplicates`,
  )
}

/** How many maps and lists nest in a value, itself included. */
export function nesting(v: AttributeValue): number {
  let inner = 0
  if (v.M) for (const k of Object.keys(v.M)) inner = Math.max(inner, nesting(v.M[k]))
  else if (v.L) for (const e of v.L) inner = Math.max(inner, nesting(e))
  else return 0
  return 1 + inner
}

/** Checks an item (or a key): its attribute names, then each value, in order. */
export function checkItem(item: unknown): Item {
  if (!item || typeof item !== 'object') throw invalid('Item must not be null')
  const out: Item = {}
  for (const k of Object.keys(item)) {
    checkName(k)
    put(out, k, checkValue((item as Item)[k]))
  }
  return out
}

export const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)))

/** Sets a key as an own property: `__proto__` and `constructor` are ordinary attribute names. */
export function put<V>(map: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true })
}

/** A map's own entry, never an inherited member such as `constructor`. */
// biome-ignore lint/suspicious/noExplicitAny: attribute maps as DynamoDB's JSON carries them
export const own = (map: any, key: string): any =>
  map && Object.hasOwn(map, key) ? map[key] : undefined

export function bytesOf(v: AttributeValue): number[] {
  if ('S' in v) return [...new TextEncoder().encode(v.S)]
  const bin = atob(v.B)
  return Array.from(bin, (c) => c.charCodeAt(0))
}

function compareBytes(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

/** <0, 0, >0 for two scalars of one type (S, N, B); undefined when they cannot be ordered. */
export function order(
  a: AttributeValue | undefined,
  b: AttributeValue | undefined,
): number | undefined {
  if (!a || !b) return undefined
  const t = typeOf(a)
  if (t !== typeOf(b)) return undefined
  if (t === 'N') return compareNumbers(parseNumber(a.N), parseNumber(b.N))
  if (t === 'S' || t === 'B') return compareBytes(bytesOf(a), bytesOf(b))
  return undefined
}

export function equal(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (!a || !b) return false
  const t = typeOf(a)
  if (t !== typeOf(b)) return false
  const x = a[t]
  const y = b[t]
  switch (t) {
    case 'N':
      return compareNumbers(parseNumber(x), parseNumber(y)) === 0
    case 'SS':
    case 'BS':
    case 'NS': {
      if (x.length !== y.length) return false
      const ys = new Set(t === 'NS' ? y.map(normalizeNumber) : y)
      return x.every((e: string) => ys.has(t === 'NS' ? normalizeNumber(e) : e))
    }
    case 'L':
      return x.length === y.length && x.every((e: AttributeValue, i: number) => equal(e, y[i]))
    case 'M': {
      const kx = Object.keys(x)
      return (
        kx.length === Object.keys(y).length &&
        kx.every((k) => Object.hasOwn(y, k) && equal(x[k], y[k]))
      )
    }
    default:
      return x === y
  }
}
