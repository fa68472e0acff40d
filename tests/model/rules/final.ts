// The rules about what a run leaves in the table (docs/guarantees.md): no orphan (every live item
// is a session some answer gave a browser the cookie of), and, with `locking`, no lease left held
// except by a request whose calls failed (its lease expires after leaseMs).
import { SETTINGS } from '../settings.ts'
import { type Facts, faulty, type Violation } from './facts.ts'

/**
 * Every live item at the end is named by a cookie an answer carried, unless a request that
 * answered 503 wrote it: a 503 may have stored what it was asked to (a new session whose every
 * reply was lost), and such an item is left to expire.
 */
export function noOrphans(facts: Facts): Violation[] {
  const by503 = (key: string) =>
    facts.record.exchanges.some((ex) => ex.status === 503 && ex.keys.includes(key))
  return facts.record.items
    .filter((item) => item.live && !item.id && !by503(item.key))
    .map((item) => ({
      rule: 'every operation of several writes leaves no orphan',
      message: `a live item no answer ever named is left: ${JSON.stringify(item.data)}`,
    }))
}

/** With `locking`, every lease is given back, or belongs to a request a fault cut short. */
export function leasesAreGivenBack(facts: Facts): Violation[] {
  const { exchanges, endedAtMs, items } = facts.record
  const faultyLately = exchanges.some(
    (ex) => faulty(ex) && ex.doneMs + SETTINGS.locking.leaseMs > endedAtMs,
  )
  if (faultyLately) return []
  return items
    .filter((item) => item.live && item.leased)
    .map((item) => ({
      rule: 'every lease a request takes is released by it or expires',
      message: `${item.id?.slice(0, 6) ?? 'an item'}… still holds a lease at the end`,
    }))
}
