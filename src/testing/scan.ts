/**
 * @module Scan, of a table or a global secondary index: every item in a stable order (by table
 * key; DynamoDB Local's is a hash order), paged by Limit and 1 MB, filtered and projected.
 */
import { consumed, pageReadUnits, type Units } from './capacity.ts'
import {
  checkKey,
  checkTableName,
  compareKeys,
  type Database,
  type Index,
  keyId,
  type Table,
  tableOf,
} from './database.ts'
import { invalid } from './errors.ts'
import { project } from './expressions/apply-projection.ts'
import { test } from './expressions/evaluate-condition.ts'
import { expressions } from './expressions/request.ts'
import { indexOf, settle } from './indexes.ts'
import { itemSize } from './size.ts'
import { checkItem, clone, type Input, type Item, own, put } from './values.ts'

const PAGE_BYTES = 1024 * 1024

export function Scan(db: Database, input: Input): unknown {
  checkTableName(input.TableName)
  const t = tableOf(db, input.TableName)
  if (input.Limit !== undefined && !(input.Limit >= 1)) {
    throw invalid('Limit must be greater than or equal to 1')
  }
  const index = indexOf(t, input.IndexName)
  const { filter, projection } = expressions(
    input,
    { FilterExpression: 'condition', ProjectionExpression: 'projection' },
    'FilterExpression is null',
  )
  const start = input.ExclusiveStartKey ? checkItem(input.ExclusiveStartKey) : undefined
  if (start) checkKey(t, start, !!index)
  return readPage(t, index, input, ordered(t, index, start), filter, projection, (last) =>
    lastKey(last, index ? index.keySchema : []),
  )

  function lastKey(item: Item, extra: { AttributeName: string }[]): Item {
    const key: Item = {}
    for (const k of [...t.keySchema, ...extra])
      put(key, k.AttributeName, clone(own(item, k.AttributeName)))
    return key
  }
}

/**
 * One page of a Scan or a Query: the entries in order until `Limit` or 1 MB, filtered and
 * projected, with the read units of what was read and the key to go on from.
 */
export function readPage(
  t: Table,
  index: Index | undefined,
  input: Input,
  entries: Iterable<Item>,
  filter: Parameters<typeof test>[1] | undefined,
  projection: Parameters<typeof project>[1] | undefined,
  keyOfLast: (last: Item) => Item,
): Record<string, unknown> {
  const items: Item[] = []
  let scanned = 0
  let bytes = 0
  let last: Item | undefined
  for (const entry of entries) {
    scanned++
    bytes += itemSize(entry)
    last = entry
    if (!filter || test(entry, filter)) {
      items.push(projection ? project(entry, projection) : clone(entry))
    }
    if (scanned === input.Limit || bytes >= PAGE_BYTES) break
  }
  const more = last && (scanned === input.Limit || bytes >= PAGE_BYTES)
  const read = pageReadUnits(bytes, input.ConsistentRead === true)
  const units: Units = index
    ? { table: 0, indexes: { [index.name]: read } }
    : { table: read, indexes: {} }
  return {
    ...(input.Select === 'COUNT' ? {} : { Items: items }),
    Count: items.length,
    ScannedCount: scanned,
    ...(more && last ? { LastEvaluatedKey: keyOfLast(last) } : {}),
    ...consumed(input, t.name, units),
  }
}

/**
 * A table's items in a stable order (by table key), so that a page can start after any key,
 * even a deleted one; an index's entries by index key, then table key, as DynamoDB Local.
 */
function ordered(t: Table, index: Index | undefined, start: Item | undefined): Item[] {
  if (index) {
    settle(t)
    const keys = [...index.keySchema, ...t.keySchema]
    const all = [...index.entries.values()].sort((a, b) => compareKeys(a, b, keys))
    return start ? all.filter((e) => compareKeys(e, start, keys) > 0) : all
  }
  const startId = start && keyId(t, start)
  const ids = [...t.items.keys()].sort().filter((id) => startId === undefined || id > startId)
  return ids.map((id) => t.items.get(id) as Item)
}
