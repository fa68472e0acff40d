/**
 * @module Scan: every item in a stable order, paged by Limit and 1 MB, filtered and projected.
 */
import { checkKey, checkTableName, type Database, tableOf } from './database.ts'
import { invalid } from './errors.ts'
import { project } from './expressions/apply-projection.ts'
import { test } from './expressions/evaluate-condition.ts'
import { expressions } from './expressions/request.ts'
import { capacity, itemSize } from './size.ts'
import { checkItem, clone, type Input, type Item } from './values.ts'

export function Scan(db: Database, input: Input): unknown {
  checkTableName(input.TableName)
  if (input.Limit !== undefined && !(input.Limit >= 1)) {
    throw invalid('Limit must be greater than or equal to 1')
  }
  const { filter, projection } = expressions(input, {
    FilterExpression: 'condition',
    ProjectionExpression: 'projection',
  })
  const t = tableOf(db, input.TableName)
  let startId: string | undefined
  if (input.ExclusiveStartKey) {
    startId = checkKey(t, checkItem(input.ExclusiveStartKey)).id
  }
  // A stable order, so that a page can start after any key, even a deleted one.
  const ids = [...t.items.keys()].sort()
  const from = startId === undefined ? 0 : ids.findIndex((id) => id > startId)
  const items: Item[] = []
  let scanned = 0
  let bytes = 0
  let last: string | undefined
  for (let i = from; i >= 0 && i < ids.length; i++) {
    const item = t.items.get(ids[i]) as Item
    scanned++
    bytes += itemSize(item)
    last = ids[i]
    if (!filter || test(item, filter)) {
      items.push(projection ? project(item, projection) : clone(item))
    }
    if (scanned === input.Limit || bytes >= 1024 * 1024) break
  }
  const more =
    last !== undefined && (scanned === input.Limit || bytes >= 1024 * 1024)
      ? checkKey(t, t.items.get(last) as Item, true).key
      : undefined
  const count = input.Select === 'COUNT'
  return {
    ...(count ? {} : { Items: items }),
    Count: items.length,
    ScannedCount: scanned,
    ...(more ? { LastEvaluatedKey: clone(more) } : {}),
    ...capacity(
      input,
      t.name,
      (Math.ceil(bytes / 4096) || 1) * (input.ConsistentRead === true ? 1 : 0.5),
    ),
  }
}
