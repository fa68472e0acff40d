/**
 * @module The save rules, pure (no I/O): when a session expires, when its expiry moves, and what
 * one request writes and which cookie it sends, decided from what the load found and what the
 * handler changed.
 */
import { applyChanges, type SessionChanges } from './changes.ts'
import type { Settings } from './settings.ts'
import type { NewSession, StoredSession } from './store/item.ts'

/** The timing rules of the save phase, from the settings. */
export type Timing = Pick<Settings, 'maxAge' | 'absoluteMaxAge' | 'touchAfter'>

/** The expiry a session created at `created` gets now: the idle timeout, capped by the absolute one. */
export const expiryFor = (created: number, now: number, t: Timing): number =>
  Math.min(now + t.maxAge, created + t.absoluteMaxAge)

/** True when an unchanged session's expiry is due to move forward on this request. */
export const touchDue = (stored: StoredSession, now: number, t: Timing): boolean =>
  expiryFor(stored.created, now, t) - stored.expires >= Math.max(1, t.touchAfter)

/** The expiry a loaded session has after this request, as the handler sees it. */
export const expiryAfterLoad = (stored: StoredSession, now: number, t: Timing): number =>
  touchDue(stored, now, t) ? expiryFor(stored.created, now, t) : stored.expires

/** What the load phase found. */
export type Found =
  /** No cookie named a live session; `ended` when one named a session another request ended. */
  | { state: 'none'; ended: boolean }
  | { state: 'live'; id: string; key: string; stored: StoredSession }

/** A live session as the save writes to it. */
export interface Current {
  key: string
  stored: StoredSession
}

/** The cookie a successful save sends: a session id and its expiry, or the clearing of it. */
export type CookieChange = { id: string; expires: number } | 'clear'

/** What the save phase does: each variant carries everything its write and its cookie need. */
export type Plan =
  | { op: 'none' }
  /** A change to a session another request ended: 409, nothing written. */
  | { op: 'refuse' }
  /** A new session's first write. */
  | { op: 'create'; id: string; item: NewSession; cookie: CookieChange }
  /** The handler's changes to the live session, with the new expiry when it moves. */
  | { op: 'update'; current: Current; expires: number | undefined; cookie?: CookieChange }
  /** `destroy()`: a tombstone; `next` when the handler wrote after it (a new session). */
  | { op: 'end'; current: Current; next?: { id: string; item: NewSession }; cookie: CookieChange }
  /** `regenerate()`: the session moves to a new id. */
  | { op: 'move'; current: Current; id: string; expires: number; cookie: CookieChange }

/**
 * The save rules. A change to a session another request ended is refused; a new session is
 * written only when it holds something; a stored one gets its changes with a new expiry, and an
 * unchanged one only a due touch or the clean-up of flash values it read.
 * @param id the session's id after the handler (a new one after `regenerate()` or `destroy()`)
 */
export function plan(
  changes: SessionChanges,
  found: Found,
  id: string,
  now: number,
  t: Timing,
): Plan {
  // What a new session holds (a write starts one only when it holds something): only asked for
  // where a new session starts, not on every request.
  const fresh = (): NewSession | undefined => {
    const data = applyChanges({}, changes)
    return Object.keys(data).length + Object.keys(changes.flash).length
      ? { data, flash: changes.flash, expires: expiryFor(now, now, t), created: now }
      : undefined
  }
  if (found.state === 'none') {
    if (found.ended && changes.changed) return { op: 'refuse' }
    const item = fresh()
    return item ? { op: 'create', id, item, cookie: { id, expires: item.expires } } : { op: 'none' }
  }
  const current = { key: found.key, stored: found.stored }
  if (changes.end === 'destroy') {
    const item = fresh()
    return item
      ? { op: 'end', current, next: { id, item }, cookie: { id, expires: item.expires } }
      : { op: 'end', current, cookie: 'clear' }
  }
  if (changes.end) {
    const expires = expiryFor(found.stored.created, now, t)
    return { op: 'move', current, id, expires, cookie: { id, expires } }
  }
  const { stored } = found
  const next = expiryFor(stored.created, now, t)
  const move =
    changes.changed || touchDue(stored, now, t) || (changes.touch && next > stored.expires)
  if (!move && !Object.keys(stored.flash).length) return { op: 'none' }
  // Never backwards: another instance may have moved it further already.
  const moved = Math.max(next, stored.expires)
  return {
    op: 'update',
    current,
    expires: move ? moved : undefined,
    cookie: move && moved !== stored.expires ? { id, expires: moved } : undefined,
  }
}
