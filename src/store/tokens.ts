/**
 * @module Write tokens: how every write to a session item is made exactly-once. A write carries
 * its request's stamp (a token and the time it was first sent); the item keeps the tokens of its
 * recent writes in `w` and a floor `wf` below which every absent token is known never to have been
 * applied. A write is accepted only if its token is new and its time is not below the floor, so a
 * retry of a write DynamoDB already applied is recognised (its token is there) and a late
 * duplicate, however late, changes nothing (its token is there, or its time is below the floor).
 */
import { newId } from '../cookie.ts'
import type { Expression } from './expressions.ts'
import { N, type RawItem, type StoredSession } from './item.ts'

/** A write's stamp: the request's token and the time (epoch ms) the write was first sent. */
export interface Stamp {
  token: string
  at: number
}

/** A new stamp, for the writes of one save (or one lease). */
export const newStamp = (): Stamp => ({ token: newId().slice(0, 8), at: Date.now() })

/** Tokens an item keeps beyond the recent ones: a busy session's item does not grow with its writes. */
export const MAX_TOKENS = 16

/**
 * Tokens of writes sent less than this before a write are kept by it beyond `MAX_TOKENS`, up to
 * `MAX_RECENT` in all: those writes may still be in flight (many concurrent requests on one
 * session), and a floor past them would refuse them.
 */
export const RECENT_MS = 1000
export const MAX_RECENT = 64

/**
 * Tokens are pruned this many at a time: a write that prunes raises the floor under a condition
 * that concurrent pruners contend on, so most writes leave the few stale tokens for a later one.
 */
export const PRUNE_BATCH = 8

/**
 * How long a token is kept: while a retry of its write may still come (the retry budget), with
 * room for clocks that differ between instances. Older tokens are pruned, and the floor rises
 * past them so their late duplicates are still refused.
 */
export const tokenKeepMs = (budgetMs: number): number => budgetMs + 5000

/** The tokens an item keeps after a write stamped `stamp`, and the floor they need. */
export interface TokenSet {
  /** The tokens kept, this write's own included. */
  w: Record<string, number>
  /** Tokens this write removes. */
  pruned: string[]
  /** The new floor, when tokens are pruned: one past the newest pruned. */
  floor?: number
  /** The item's floor after this write: the new one, or the one it had. */
  wf: number
}

/**
 * The token policy, in one place: every write adds its token and keeps those as new as its own;
 * of the older ones it keeps the newest `MAX_TOKENS` (`MAX_RECENT` of those sent less than
 * `RECENT_MS` before it), none older than `keepMs`; once `PRUNE_BATCH` are past that, it removes
 * them and raises the floor past them.
 */
export function tokensAfter(stored: StoredSession, stamp: Stamp, keepMs: number): TokenSet {
  const kept: Record<string, number> = {}
  const pruned: string[] = []
  let floor: number | undefined
  let n = 0
  for (const [token, at] of Object.entries(stored.w ?? {}).sort((a, b) => b[1] - a[1])) {
    // Tokens as new as this write's are never pruned by it: their writes may be in flight.
    const room = at >= stamp.at - RECENT_MS ? MAX_RECENT : MAX_TOKENS
    if (at >= stamp.at || (++n < room && at >= stamp.at - keepMs)) kept[token] = at
    else {
      pruned.push(token)
      floor ??= at + 1
    }
  }
  kept[stamp.token] = stamp.at
  if (pruned.length < PRUNE_BATCH) {
    return { w: { ...stored.w, ...kept }, pruned: [], wf: stored.wf }
  }
  return { w: kept, pruned, floor, wf: Math.max(stored.wf, floor ?? 0) }
}

/**
 * Adds the parts of a per-key UpdateItem that carry the stamp to its `sets` and `removes`: the
 * token set, stale tokens removed, the floor raised.
 * @returns the condition that the token is new and the floor below it
 */
export function stampUpdate(
  x: Expression,
  stored: StoredSession,
  stamp: Stamp,
  keepMs: number,
  sets: string[],
  removes: string[],
): string {
  const { pruned, floor } = tokensAfter(stored, stamp, keepMs)
  const own = x.path('w', stamp.token)
  sets.push(`${own} = ${x.value(N(stamp.at))}`)
  const wf = x.path('wf')
  // Raising the floor is conditioned on it: concurrent writers never lower it.
  const limit = x.value(N(floor ?? stamp.at))
  if (floor !== undefined) sets.push(`${wf} = ${limit}`)
  for (const t of pruned) removes.push(x.path('w', t))
  return `attribute_not_exists(${own}) AND ${wf} <= ${limit}`
}

/** True when the item shows that a write with this stamp was applied. */
export const applied = (current: RawItem, stamp: Stamp): boolean => !!current.w?.M?.[stamp.token]

/** True when the item's floor is past the stamp: a write with it is refused for good. */
export const belowFloor = (session: StoredSession, stamp: Stamp): boolean => session.wf > stamp.at
