/**
 * @module The capacity units a request consumes, and the ConsumedCapacity it answers with when
 * asked (`TOTAL`: the sum; `INDEXES`: the table's and each index's share as well).
 */
import { itemSize } from './size.ts'
import type { Input, Item } from './values.ts'

/** Units consumed on a table and on each of its indexes. */
export interface Units {
  table: number
  indexes: Record<string, number>
}

/** Write units of one item: 1 per KB, at least 1. */
export const itemWriteUnits = (item: Item | undefined): number =>
  item ? Math.max(1, Math.ceil(itemSize(item) / 1024)) : 1

/** A write's units on the table: the larger of the item before and after. */
export const writeUnits = (...items: (Item | undefined)[]): number =>
  Math.max(1, ...items.map(itemWriteUnits))

/** A single-item read: 1 per 4 KB, at least 1, halved when eventually consistent. */
export const readUnits = (item: Item | undefined, consistent: boolean): number =>
  (item ? Math.ceil(itemSize(item) / 4096) || 1 : 1) * (consistent ? 1 : 0.5)

/** A Query's or Scan's read: 1 per 4 KB of everything read (none read: none), halved likewise. */
export const pageReadUnits = (bytes: number, consistent: boolean): number =>
  Math.ceil(bytes / 4096) * (consistent ? 1 : 0.5)

const sum = (u: Units) => Object.values(u.indexes).reduce((n, x) => n + x, u.table)

/** Each index's share, as INDEXES gives it: indexes the request did not touch are left out. */
const indexShares = (u: Units, share: (n: number) => Record<string, number>) => {
  const used = Object.entries(u.indexes).filter(([, n]) => n > 0)
  return used.length
    ? { GlobalSecondaryIndexes: Object.fromEntries(used.map(([k, n]) => [k, share(n)])) }
    : {}
}

/** One table's ConsumedCapacity, as asked for by ReturnConsumedCapacity. */
export function capacityOf(input: Input, table: string, u: Units): Record<string, unknown> {
  const total = { TableName: table, CapacityUnits: sum(u) }
  if (input.ReturnConsumedCapacity !== 'INDEXES') return total
  return {
    ...total,
    Table: { CapacityUnits: u.table },
    ...indexShares(u, (n) => ({ CapacityUnits: n })),
  }
}

/** The ConsumedCapacity field of a one-table answer, when the request asks for it. */
export const consumed = (input: Input, table: string, u: Units): Record<string, unknown> =>
  wantsCapacity(input) ? { ConsumedCapacity: capacityOf(input, table, u) } : {}

/** A transaction's ConsumedCapacity for one table, with read and write units apart. */
export function transactionCapacity(
  input: Input,
  table: string,
  read: number,
  write: Units,
): Record<string, unknown> {
  const all = read + sum(write)
  const split = (r: number, w: number) => ({
    CapacityUnits: r + w,
    ...(r ? { ReadCapacityUnits: r } : {}),
    ...(w ? { WriteCapacityUnits: w } : {}),
  })
  const out = { TableName: table, ...split(read, all - read) }
  if (input.ReturnConsumedCapacity !== 'INDEXES') return out
  return { ...out, Table: split(read, write.table), ...indexShares(write, (n) => split(0, n)) }
}

/** Whether the request asks for ConsumedCapacity. */
export const wantsCapacity = (input: Input): boolean =>
  input.ReturnConsumedCapacity === 'TOTAL' || input.ReturnConsumedCapacity === 'INDEXES'
