/**
 * @module What one request changed in its session, and the one rule that replays those changes
 * on stored data (a new item of a sign-in, a whole-item write on a fresh read).
 */
import { DynamoSessionError } from './errors.ts'
import { type JsonValue, plainCopy } from './marshall.ts'

/** What a request changed, for the store to write. */
export interface SessionChanges {
  /** Keys set to a value. */
  set: Record<string, JsonValue>
  /** Keys removed. */
  remove: string[]
  /** Keys to add to on the server, with the amount. */
  increment: Record<string, number>
  /** Flash values for the next request. */
  flash: Record<string, JsonValue>
  /** The request called `destroy()` or `regenerate()`. */
  end: 'destroy' | 'regenerate' | undefined
  /** The user `regenerate({ userId })` binds the new session to. */
  userId: string | undefined
  /** The handle of the session after the request: a new one after `regenerate()` or `destroy()`. */
  handle: string
  /** The handler asked for the expiry to move forward. */
  touch: boolean
  /** True when the handler changed anything at all (data, flash, id or existence). */
  changed: boolean
}

/** The data changes of a request, as a replay needs them. */
export type DataChanges = Pick<SessionChanges, 'set' | 'remove' | 'increment'>

/** True when `key` is an own key of `map` (so `constructor` or `__proto__` are ordinary keys). */
export const own = (map: object, key: string): boolean => Object.hasOwn(map, key)

/** Sets a key as an own property, so `__proto__` is an ordinary key. */
export const put = <V>(map: Record<string, V>, key: string, value: V): void => {
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true })
}

/**
 * Applies a request's changes to stored data: the data the new item of a regenerated session
 * gets, and what a whole-map write replays on a fresh read.
 * @throws DynamoSessionError NOT_A_NUMBER when an increment meets a stored value that is not a
 *   number (another request stored one meanwhile)
 */
export function applyChanges(
  base: Record<string, JsonValue>,
  changes: DataChanges,
): Record<string, JsonValue> {
  const data = plainCopy(base)
  for (const k of changes.remove) delete data[k]
  for (const k of Object.keys(changes.set)) put(data, k, changes.set[k])
  for (const k of Object.keys(changes.increment)) {
    const current = own(data, k) ? data[k] : 0
    if (typeof current !== 'number') {
      throw new DynamoSessionError(
        'NOT_A_NUMBER',
        `increment("${k}"): another request stored a ${typeof current}; nothing saved`,
      )
    }
    put(data, k, current + changes.increment[k])
  }
  return data
}
