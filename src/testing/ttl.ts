/**
 * @module Time to live: UpdateTimeToLive and DescribeTimeToLive, and the deletion of expired
 * items. The kit deletes them only when a test asks (`expire()` of a region): DynamoDB deletes
 * them days late, and the library ignores them itself.
 */
import { type Database, tableOf } from './database.ts'
import { invalid } from './errors.ts'
import { type Input, type Item, own, put } from './values.ts'
import { commit } from './writes.ts'

export function UpdateTimeToLive(db: Database, input: Input): unknown {
  const t = tableOf(db, input.TableName)
  const spec = input.TimeToLiveSpecification
  if (!spec) throw invalid('TimeToLiveSpecification cannot be null')
  if (spec.Enabled) {
    if (spec.AttributeName == null) {
      throw invalid('AttributeName cannot be null when time to live is being enabled')
    }
    if (t.ttl === spec.AttributeName) throw invalid('TimeToLive is already enabled')
    if (t.ttl) throw invalid('TimeToLive is active on a different AttributeName')
    t.ttl = spec.AttributeName
  } else {
    if (!t.ttl) throw invalid('TimeToLive is already disabled')
    if (t.ttl !== spec.AttributeName) {
      throw invalid('TimeToLive is active on a different AttributeName')
    }
    t.ttl = undefined
  }
  return {
    TimeToLiveSpecification: { Enabled: !!spec.Enabled, AttributeName: spec.AttributeName },
  }
}

export function DescribeTimeToLive(db: Database, input: Input): unknown {
  const t = tableOf(db, input.TableName)
  return {
    TimeToLiveDescription: t.ttl
      ? { TimeToLiveStatus: 'ENABLED', AttributeName: t.ttl }
      : { TimeToLiveStatus: 'DISABLED' },
  }
}

/**
 * Deletes, as DynamoDB's TTL process does, every item whose TTL attribute is a number (epoch
 * seconds) before `now` (ms); an attribute of another type never expires. Each deletion is a
 * write like any other: its indexes follow, and a multi-region kit replicates it.
 */
export function expire(db: Database, now: number): number {
  let deleted = 0
  for (const t of db.tables.values()) {
    if (!t.ttl) continue
    for (const [id, item] of [...t.items]) {
      const at = own(item, t.ttl)?.N
      if (at === undefined || Number(at) * 1000 >= now) continue
      const key: Item = {}
      for (const k of t.keySchema) put(key, k.AttributeName, item[k.AttributeName])
      commit(db, { table: t, id, key, old: item, next: undefined })
      deleted++
    }
  }
  return deleted
}
