/**
 * @module The lifecycle rules, pure (no I/O): when a session expires, when its expiry moves, what
 * a cookie naming an ended session may still do, and what one request writes and which cookie it
 * sends, decided from what the load found and what the handler changed.
 */
import { applyChanges, type SessionChanges } from './changes.ts'
import type { JsonValue } from './marshall.ts'
import type { Settings } from './settings.ts'
import type { StoredSession } from './store/item.ts'
import type { MoveTarget, NewItem } from './store/store.ts'

/** The timing rules of the save phase, from the settings. */
export type Timing = Pick<Settings, 'maxAge' | 'absoluteMaxAge' | 'touchAfter'>

/**
 * How long after a session ended a change through its cookie is refused (409) rather than taken
 * as a change of no session: long enough for any request sent before the end to have arrived.
 */
export const GRACE_SECONDS = 60

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
  /** No cookie named a live session; `ended` when one named a session that ended then (epoch s). */
  | { state: 'none'; ended?: number }
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
  /** Nothing to write; a sign-out of no live session clears the cookie. */
  | { op: 'none'; cookie?: 'clear' }
  /** A change through a cookie naming a session ended within the grace: 409, nothing written. */
  | { op: 'refuse' }
  /** A new session's first write. */
  | { op: 'create'; id: string; item: NewItem; cookie: CookieChange }
  /** The handler's changes to the live session, with the new expiry when it moves. */
  | { op: 'update'; current: Current; expires: number | undefined; cookie?: CookieChange }
  /** `destroy()`: a tombstone; `next` when the handler wrote after it (a new session). */
  | { op: 'end'; current: Current; next?: { id: string; item: NewItem }; cookie: CookieChange }
  /** `regenerate()`: the session moves to a new id. */
  | { op: 'move'; current: Current; id: string; to: MoveTarget['item']; cookie: CookieChange }

/**
 * The save rules. Sign-in and sign-out always work: through a cookie naming an ended session a
 * sign-in starts from an empty session and a sign-out clears the cookie. Any other change through
 * it is refused within the grace, and taken as a change of no session after it. A new session is
 * written only when it holds something; a live one gets its changes with a new expiry, and an
 * unchanged one only a due touch or the clean-up of flash values it read.
 * @param id the session's id after the handler (a new one after `regenerate()` or `destroy()`)
 * @param device what `describe(c)` says of the browser, asked only when a user is bound
 */
export function plan(
  changes: SessionChanges,
  found: Found,
  id: string,
  now: number,
  t: Timing,
  device: () => JsonValue | undefined,
): Plan {
  const { userId, handle } = changes
  const bound = userId ? { uid: userId, device: device() } : {}
  const data = applyChanges({}, changes)
  // What a new session holds: written only when it holds something.
  const item: NewItem | undefined =
    Object.keys({ ...data, ...changes.flash }).length || userId
      ? {
          data,
          flash: changes.flash,
          expires: expiryFor(now, now, t),
          created: now,
          handle,
          ...bound,
        }
      : undefined
  if (found.state === 'none') {
    const graced = found.ended !== undefined && now - found.ended < GRACE_SECONDS
    if (graced && changes.changed && !changes.end) return { op: 'refuse' }
    if (item) return { op: 'create', id, item, cookie: { id, expires: item.expires } }
    // A read never clears a dead cookie: answering after a sign-in through the same cookie, the
    // clear would sign the browser out.
    return changes.end === 'destroy' ? { op: 'none', cookie: 'clear' } : { op: 'none' }
  }
  const { stored } = found
  const current = { key: found.key, stored }
  if (changes.end === 'destroy') {
    return item
      ? { op: 'end', current, next: { id, item }, cookie: { id, expires: item.expires } }
      : { op: 'end', current, cookie: 'clear' }
  }
  const next = expiryFor(stored.created, now, t)
  if (changes.end) {
    // The creation time moves along, so absoluteMaxAge cannot be escaped by a sign-in.
    const to = {
      expires: next,
      created: stored.created,
      handle,
      uid: stored.uid,
      device: stored.device,
      ...bound,
    }
    return { op: 'move', current, id, to, cookie: { id, expires: next } }
  }
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
