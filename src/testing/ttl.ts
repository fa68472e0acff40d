/**
 * @module Time to live: UpdateTimeToLive and DescribeTimeToLive. The kit records the attribute
 * but never deletes expired items (DynamoDB deletes them days late; the library ignores them).
 */
import { type Database, tableOf } from './database.ts'
import { invalid } from './errors.ts'
import type { Input } from './values.ts'

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
