/**
 * @module The session API of one request: what the handler sees and what it changed. Pure: it
 * knows nothing of Hono or DynamoDB.
 */
import { own, put, type SessionChanges } from './changes.ts'
import { newId } from './cookie.ts'
import { inNumberRange, type JsonValue, plainCopy, whyNotJson } from './marshall.ts'
import { MAX_USER_ID } from './settings.ts'

/**
 * What `Data` and `Flash` may hold: JSON values. Types the key's type unchanged when it is
 * JSON-compatible and maps what is not (a `Date`, `Map`, function, `bigint`, a key that can only
 * be `undefined`) to `never`, so `Data extends JsonCompatible<Data>` fails at the use site.
 * Interfaces pass (no index signature needed); `unknown` and `any` pass (checked at run time).
 */
export type JsonCompatible<T> = {
  [K in keyof T]: unknown extends T[K] ? T[K] : JsonField<T[K]>
} & { [K in UndefinedKeys<T>]: never }

/** Keys whose type is `undefined` alone: nothing can be stored under them. */
type UndefinedKeys<T, Keys extends keyof T = keyof T> = {
  [K in Keys]: unknown extends T[K] ? never : [T[K]] extends [undefined] ? K : never
}[Keys]

/** One value of a JSON-compatible type: `undefined` only as a member of a union (optional keys). */
type JsonField<T> = unknown extends T
  ? T
  : T extends JsonValue | undefined
    ? T
    : T extends
          | ((...args: never) => unknown)
          | Date
          | ReadonlyMap<unknown, unknown>
          | ReadonlySet<unknown>
      ? never
      : T extends object
        ? JsonCompatible<T>
        : never

/** The keys of `Data` that `increment` accepts: typed `number` (optional or not), or any JSON value. */
export type NumberKeys<Data> = {
  [K in keyof Data]-?: JsonValue extends Data[K]
    ? K
    : [Exclude<Data[K], undefined>] extends [number]
      ? number extends Data[K]
        ? K
        : never
      : never
}[keyof Data]

/**
 * The session as a handler sees it, through `c.get('session')` (or the middleware's `contextKey`).
 * `Data` types the stored keys; `Flash` types the keys of `flash`/`takeFlash`.
 */
export interface Session<
  Data extends object = Record<string, unknown>,
  Flash extends object = Record<string, JsonValue>,
> {
  /** The id the cookie carries. A new session gets one at once; it is stored only when written. */
  readonly id: string
  /** True when no stored session was loaded for this request. */
  readonly isNew: boolean
  /** When the stored session expires (after this request's touch), or null when not stored. */
  readonly expiresAt: Date | null
  /** The value of a key, or undefined. */
  get<K extends keyof Data>(key: K): Data[K] | undefined
  /** Sets a key to a JSON value (not undefined: use `delete`); throws a TypeError naming the key for anything else. */
  set<K extends keyof Data>(key: K, value: Exclude<Data[K], undefined>): void
  /** Removes a key. */
  delete(key: keyof Data): void
  /** True when the key has a value. */
  has(key: keyof Data): boolean
  /** A copy of all keys and values. */
  readonly data: Readonly<Partial<Data>>
  /** Adds `by` (default 1) to a numeric key, atomically in DynamoDB: concurrent increments all count. */
  increment(key: NumberKeys<Data>, by?: number): void
  /** Stores a JSON value that the next request can read once with `takeFlash`. */
  flash<K extends keyof Flash & string>(key: K, value: Exclude<Flash[K], undefined>): void
  /** Reads a value the previous request flashed; flashed values last one request. */
  takeFlash<K extends keyof Flash & string>(key: K): Flash[K] | undefined
  /**
   * Gives the session a new id, keeping its data, and ends the old one (call it on sign-in).
   * `userId` binds the new session to that user (a non-empty string of at most 256 characters),
   * so `listSessions()` and `revokeSessions()` find it; a session id never changes owner.
   */
  regenerate(options?: { userId?: string }): void
  /** Ends the stored session and clears the cookie (call it on sign-out). */
  destroy(): void
  /** The user `regenerate({ userId })` bound this session to; undefined for anonymous sessions. */
  readonly userId: string | undefined
  /** An opaque, stable name of this session, safe to show: it cannot be turned into a cookie. */
  readonly handle: string
  /** Pushes the expiry forward on this request even when `touchAfter` has not passed. */
  touch(): void
}

/** What a handler's session starts from: the stored session as far as the handler sees it. */
export interface Loaded {
  /** The data as stored (before any schema). */
  data: Record<string, JsonValue>
  /** Flash values by entry name: a stamp of `STAMP_LENGTH` characters, then the key. */
  flash: Record<string, JsonValue>
  handle: string
  uid?: string
}

/** The length of the stamp that starts a flash entry's name. */
const STAMP = 17

/** A new handle: 16 random characters, not derived from the id. */
const newHandle = (): string => newId().slice(0, 16)

/** The keys of a map in one order on every backend: sorted by code unit. */
export const sorted = <V>(map: Record<string, V>): Record<string, V> =>
  Object.fromEntries(
    Object.keys(map)
      .sort()
      .map((k) => [k, map[k]]),
  )

function checkJson(what: string, key: string, value: unknown): void {
  if (value === undefined) {
    throw new TypeError(
      `${what}("${key}"): undefined is not a JSON value; use session.delete("${key}")`,
    )
  }
  const why = whyNotJson(value)
  if (why) throw new TypeError(`${what}("${key}"): ${why}`)
}

/** The `Session` implementation; the middleware reads `changes()` after the handler ran. */
export class SessionState<
  Data extends object = Record<string, unknown>,
  Flash extends object = Record<string, JsonValue>,
> implements Session<Data, Flash>
{
  declare readonly isNew: boolean
  declare expiresAt: Date | null
  #id: string
  /** What the handler sees: the schema's output, or a copy of the stored data. */
  #view: Record<string, JsonValue>
  readonly #stored: Loaded | null
  readonly #dirty = new Set<string>()
  #increments: Record<string, number> = {}
  #flashOut: Record<string, JsonValue> = {}
  #end: 'destroy' | 'regenerate' | undefined
  #touch = false
  #sealed = false
  #handle: string
  #uid: string | undefined
  /** The user a `regenerate({ userId })` of this request binds. */
  #bind: string | undefined

  /**
   * @param id the id of the stored session, or a new id
   * @param stored the loaded session, or null for a new one
   * @param view the data handlers see (the schema's output); a copy of the stored data by default
   * @param expiresAt the expiry the stored session will have after this request
   */
  constructor(
    id: string,
    stored: Loaded | null,
    expiresAt: Date | null,
    view: Record<string, unknown> | undefined = stored?.data,
  ) {
    this.#id = id
    this.#stored = stored
    this.isNew = stored === null
    this.#handle = stored?.handle || newHandle()
    this.#uid = stored?.uid
    // A deep copy: objects handed out by get() and changed in place must not change what was
    // loaded, or set() would compare them with themselves and write nothing. A schema's output is
    // copied too (a schema may hand out one default object to every request), but only its plain
    // objects and arrays: class instances it made (a Date, a URL) stay whole. Stored data holds
    // only plain objects and arrays.
    this.#view = plainCopy(view ?? {}) as Record<string, JsonValue>
    this.expiresAt = expiresAt
  }

  get id(): string {
    return this.#id
  }

  get data(): Readonly<Partial<Data>> {
    return sorted(this.#view) as Partial<Data>
  }

  get handle(): string {
    return this.#handle
  }

  get userId(): string | undefined {
    return this.#uid
  }

  get<K extends keyof Data>(key: K): Data[K] | undefined {
    const k = key as string
    return (own(this.#view, k) ? this.#view[k] : undefined) as Data[K] | undefined
  }

  has(key: keyof Data): boolean {
    return this.get(key) !== undefined
  }

  set<K extends keyof Data>(key: K, value: Data[K]): void {
    const name = this.#key(key)
    checkJson('session.set', name, value)
    put(this.#view, name, value as JsonValue)
    this.#dirty.add(name)
    delete this.#increments[name]
  }

  delete(key: keyof Data): void {
    const name = this.#key(key)
    if (!own(this.#view, name) && !this.#dirty.has(name)) return
    delete this.#view[name]
    this.#dirty.add(name)
    delete this.#increments[name]
  }

  increment(key: keyof Data, by = 1): void {
    const name = this.#key(key)
    const current = own(this.#view, name) ? this.#view[name] : 0
    // After destroy() the keys belong to a new, empty session.
    const stored = this.#end === 'destroy' ? undefined : this.#stored?.data
    const raw = this.#dirty.has(name) || !stored ? current : own(stored, name) ? stored[name] : 0
    if (typeof current !== 'number' || typeof raw !== 'number') {
      throw new TypeError(
        `increment("${name}"): stored value is a ${typeof raw !== 'number' ? typeof raw : typeof current}, not a number`,
      )
    }
    const sum = current + by
    // A number outside DynamoDB's range is stored as binary, which DynamoDB cannot add to: it is
    // written whole, with the sum this request computed.
    const whole = !inNumberRange(raw)
    if (
      typeof by !== 'number' ||
      !Number.isFinite(sum) ||
      (!whole && (!inNumberRange(by) || !inNumberRange(sum)))
    ) {
      throw new TypeError(
        `increment("${name}", ${by}): by and the sum must be within DynamoDB's range (1e-130 to 1e126)`,
      )
    }
    put(this.#view, name, sum)
    if (whole) this.#dirty.add(name)
    // A key set in this request is written whole; otherwise DynamoDB adds, so no count is lost.
    if (!this.#dirty.has(name)) {
      put(this.#increments, name, (own(this.#increments, name) ? this.#increments[name] : 0) + by)
    }
  }

  flash(key: string, value: unknown): void {
    const name = this.#key(key)
    checkJson('session.flash', name, value)
    put(this.#flashOut, name, value as JsonValue)
  }

  takeFlash<K extends keyof Flash & string>(key: K): Flash[K] | undefined {
    // The newest value flashed to the key: entry names start with a stamp that sorts by time.
    let found: string | undefined
    for (const entry of Object.keys(this.#stored?.flash ?? {})) {
      if (entry.slice(STAMP) === key && !(found && found > entry)) found = entry
    }
    return (found && plainCopy((this.#stored as Loaded).flash[found])) as Flash[K] | undefined
  }

  regenerate(options?: { userId?: string }): void {
    this.#mutable()
    const userId = options?.userId
    if (
      userId !== undefined &&
      (typeof userId !== 'string' || !userId || userId.length > MAX_USER_ID)
    ) {
      throw new TypeError(
        `regenerate({ userId }): userId must be a non-empty string of at most ${MAX_USER_ID} characters, got ${typeof userId === 'string' ? `${userId.length} characters` : typeof userId}`,
      )
    }
    this.#end ??= 'regenerate'
    this.#id = newId()
    this.#handle = newHandle()
    if (userId) this.#uid = this.#bind = userId
  }

  destroy(): void {
    this.regenerate()
    this.#end = 'destroy'
    this.#view = {}
    this.#dirty.clear()
    this.#increments = {}
    this.#flashOut = {}
    this.#uid = this.#bind = undefined
    this.expiresAt = null
  }

  touch(): void {
    this.#mutable()
    this.#touch = true
  }

  /** After the save, every change throws: it could no longer be stored. */
  seal(): void {
    this.#sealed = true
  }

  #mutable(): void {
    if (this.#sealed) {
      throw new TypeError(
        'session already saved: change it before the response, not in a streamed body',
      )
    }
  }

  /** The name of a key a change is made to, once the session may still change. */
  #key(key: PropertyKey): string {
    this.#mutable()
    if (typeof key !== 'string' || key === '') {
      throw new TypeError(`session keys must be non-empty strings, got ${String(key)}`)
    }
    return key
  }

  /** What this request changed. Keys set to the value they were loaded with are not changes. */
  changes(): SessionChanges {
    const set: Record<string, JsonValue> = {}
    const remove: string[] = []
    const stored = (this.#end !== 'destroy' && this.#stored?.data) || {}
    for (const key of this.#dirty) {
      if (!own(this.#view, key)) {
        if (own(stored, key)) remove.push(key)
        continue
      }
      const value = this.#view[key]
      const why = whyNotJson(value)
      if (why) throw new TypeError(`"${key}" changed after set(): ${why}`)
      if (!own(stored, key) || JSON.stringify(stored[key]) !== JSON.stringify(value)) {
        put(set, key, value)
      }
    }
    const increment = { ...this.#increments }
    return {
      set,
      remove,
      increment,
      flash: this.#flashOut,
      end: this.#end,
      userId: this.#bind,
      handle: this.#handle,
      touch: this.#touch,
      changed:
        this.#end !== undefined ||
        remove.length + Object.keys({ ...set, ...increment, ...this.#flashOut }).length > 0,
    }
  }
}
