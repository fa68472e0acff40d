/**
 * @module Item sizes by DynamoDB's rules, the 400 KB item limit, and the capacity units a
 * request consumes.
 */
import { parseNumber } from './numbers.ts'
import { type AttributeValue, base64Length, type Input, type Item, typeOf, utf8 } from './values.ts'

export function valueSize(v: AttributeValue): number {
  const type = typeOf(v)
  const x = v[type]
  switch (type) {
    case 'S':
      return utf8(x)
    case 'B':
      return base64Length(x)
    case 'N': {
      const { m, e } = parseNumber(x)
      if (m === 0n) return 1
      const digits = (m < 0n ? -m : m).toString().length
      return 1 + Math.ceil(digits / 2) + (digits % 2 || e % 2 ? 0 : 1) + (m < 0n ? 1 : 0)
    }
    case 'SS':
      return x.reduce((n: number, s: string) => n + utf8(s), 0)
    case 'NS':
      return x.reduce((n: number, s: string) => n + valueSize({ N: s }), 0)
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
  for (const k of Object.keys(item)) size += utf8(k) + valueSize(item[k])
  return size
}

export const MAX_ITEM_BYTES: number = 400 * 1024

export interface Capacity {
  TableName: string
  CapacityUnits: number
}

export const writeUnits = (...items: (Item | undefined)[]): number =>
  Math.max(1, ...items.map((i) => (i ? Math.ceil(itemSize(i) / 1024) : 1)))
export const readUnits = (item: Item | undefined, consistent: boolean): number =>
  (item ? Math.ceil(itemSize(item) / 4096) || 1 : 1) * (consistent ? 1 : 0.5)

/** The ConsumedCapacity of a one-table request, when it asks for it. */
export const capacity = (
  input: Input,
  table: string,
  units: number,
): { ConsumedCapacity?: Capacity } =>
  input.ReturnConsumedCapacity === 'TOTAL' || input.ReturnConsumedCapacity === 'INDEXES'
    ? { ConsumedCapacity: { TableName: table, CapacityUnits: units } as Capacity }
    : {}
