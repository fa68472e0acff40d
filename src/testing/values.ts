/**
 * @module DynamoDB attribute values: their checks on the way in, and equality and order as
 * conditions and keys see them.
 */
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
export const utf8 = (s: string): number => new TextEncoder().encode(s).length
export const base64Length = (b: string): number => {
  const clean = b.replace(/=+$/, '')
  return Math.floor((clean.length * 3) / 4)
}
const setName: Record<string, string> = { SS: 'string', NS: 'number', BS: 'binary' }

/** Checks an attribute value and returns a normalised copy (numbers in canonical form). */
export function checkValue(v: unknown): AttributeValue {
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw invalid(
      'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes',
    )
  }
  const keys = Object.keys(v).filter((k) => (v as AttributeValue)[k] != null)
  if (keys.length === 0 || !TYPES.includes(keys[0])) {
    throw invalid(
      'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes',
    )
  }
  if (keys.length > 1) {
    throw invalid(
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    )
  }
  const type = keys[0]
  const value = (v as AttributeValue)[type]
  switch (type) {
    case 'S':
    case 'B':
      if (typeof value !== 'string') throw invalid(`Invalid ${type} value`)
      return { [type]: value }
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
      if (!Array.isArray(value)) throw invalid('Invalid L value')
      return { L: value.map(checkValue) }
    case 'M': {
      if (typeof value !== 'object' || Array.isArray(value)) throw invalid('Invalid M value')
      const out: Item = {}
      for (const k of Object.keys(value)) put(out, k, checkValue(value[k]))
      return { M: out }
    }
    default: {
      if (!Array.isArray(value) || value.length === 0) {
        throw invalid(
          `One or more parameter values were invalid: An ${setName[type]} set  may not be empty`,
        )
      }
      const members = type === 'NS' ? value.map(normalizeNumber) : value.map(String)
      if (new Set(members).size !== members.length) {
        throw invalid(
          `One or more parameter values were invalid: Input collection [${value.join(', ')}] contains duplicates`,
        )
      }
      return { [type]: members }
    }
  }
}

export function checkItem(item: unknown): Item {
  if (!item || typeof item !== 'object') throw invalid('Item must not be null')
  const out: Item = {}
  for (const k of Object.keys(item)) put(out, k, checkValue((item as Item)[k]))
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
