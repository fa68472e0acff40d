/**
 * @module Item sizes by DynamoDB's rules, and the 400 KB item limit.
 */
import { utf8Length } from '../marshall.ts'
import { type Decimal, parseNumber } from './numbers.ts'
import { type AttributeValue, base64Length, type Item, typeOf } from './values.ts'

// The library's attributeSize() (src/marshall.ts) is an estimate for its own checks, taken from
// the text it sends: this one is DynamoDB Local's exact count, which differs from it for numbers
// (centesimal digits, not characters), binaries (bytes, not base64 characters), sets and the
// top level of an item (no byte per attribute). tests/suite/emulator-size.test.ts shows where.

/**
 * The bytes of a number: one, plus one per pair of decimal digits (pairs aligned on the decimal
 * point, leading and trailing zero pairs dropped), plus one when negative.
 */
function numberSize({ m, e }: Decimal): number {
  if (m === 0n) return 1
  const digits = (m < 0n ? -m : m).toString().length
  const pairs = Math.floor((e + digits - 1) / 2) - Math.floor(e / 2) + 1
  return 1 + pairs + (m < 0n ? 1 : 0)
}

/** A number's size; an invalid one (sized before the checks that refuse it) by its text. */
function numberBytes(text: string): number {
  try {
    return numberSize(parseNumber(text))
  } catch {
    return String(text).length
  }
}

/** The size DynamoDB counts for an attribute value (its name aside). */
export function valueSize(v: AttributeValue): number {
  const type = typeOf(v)
  const x = v[type]
  switch (type) {
    case 'S':
      return utf8Length(x)
    case 'B':
      return base64Length(x)
    case 'N':
      return numberBytes(x)
    case 'SS':
      return x.reduce((n: number, s: string) => n + utf8Length(s), 0)
    case 'NS':
      return x.reduce((n: number, s: string) => n + numberBytes(s), 0)
    case 'BS':
      return x.reduce((n: number, s: string) => n + base64Length(s), 0)
    case 'L':
      return 3 + x.reduce((n: number, e: AttributeValue) => n + 1 + valueSize(e), 0)
    case 'M':
      return 3 + Object.keys(x).length + itemSize(x)
    default:
      return 1
  }
}

/** An item's size by DynamoDB's rules: names and values, in bytes. */
export function itemSize(item: Item): number {
  let size = 0
  for (const k of Object.keys(item)) size += utf8Length(k) + valueSize(item[k])
  return size
}

export const MAX_ITEM_BYTES: number = 400 * 1024
