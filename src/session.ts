/**
 * @module The session state of one request: what the handler sees and what changed. Pure: it
 * knows nothing of Hono or DynamoDB.
 */
import { newId } from './cookie.ts'
import { type JsonValue, whyNotJson } from './marshall.ts'

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
  /** Gives the session a new id, keeping its data, and deletes the old item (call it on login). */
  regenerate(): void
  /** Deletes the stored session and clears the cookie (call it on logout). */
  destroy(): void
  /** Pushes the expiry forward on this request even when `touchAfter` has not passed. */
  touch(): void
}

/** A stored session as loaded from DynamoDB. */
export interface StoredSession {
  data: Record<string, JsonValue>
  flash: Record<string, JsonValue>
  /** Epoch seconds. */
  expires: number
  /** Epoch seconds. */
  created: number
}

/** What a request changed, for the store to write. */
export interface SessionChanges {
  /** Keys set to a value (the whole data when `fresh`). */
  set: Record<string, JsonValue>
  /** Keys removed. */
  remove: string[]
  /** Keys to add to on the server, with the amount. */
  increment: Record<string, number>
  /** Flash values for the next request. */
  flash: Record<string, JsonValue>
  /** True when the whole item must be written anew (new, regenerated or destroyed session). */
  fresh: boolean
  /** The id whose item must be deleted (after destroy or regenerate), if any. */
  deleteId: string | undefined
  /** The handler asked for the expiry to move forward. */
  touch: boolean
}

const keyName = (key: PropertyKey): string => {
  if (typeof key !== 'string' || key === '') {
    throw new TypeError(`session keys must be non-empty strings, got ${String(key)}`)
  }
  return key
}

function checkJson(what: string, key: string, value: unknown): void {
  if (value === undefined) {
    throw new TypeError(
      `${what}("${key}"): undefined is not a JSON value; use session.delete("${key}") to remove a key`,
    )
  }
  const why = whyNotJson(value)
  if (why) throw new TypeError(`${what}("${key}"): ${why}; session values must be JSON values`)
}

/** The `Session` implementation; the middleware reads `changes()` after the handler ran. */
export class SessionState<
  Data extends object = Record<string, unknown>,
  Flash extends object = Record<string, JsonValue>,
> implements Session<Data, Flash>
{
  readonly isNew: boolean
  expiresAt: Date | null
  #id: string
  #data: Record<string, JsonValue>
  readonly #stored: StoredSession | null
  readonly #dirty = new Set<string>()
  readonly #increments: Record<string, number> = {}
  #flashOut: Record<string, JsonValue> = {}
  #fresh: boolean
  #deleteId: string | undefined
  #touch = false
  #destroyed = false

  /**
   * @param id the id of the stored session, or a new id
   * @param stored the loaded session, or null for a new one
   * @param expiresAt the expiry the stored session will have after this request
   */
  constructor(id: string, stored: StoredSession | null, expiresAt: Date | null) {
    this.#id = id
    this.#stored = stored
    this.isNew = stored === null
    this.#fresh = stored === null
    // A deep copy: objects handed out by get() and changed in place must not change what was
    // loaded, or set() would compare them with themselves and write nothing.
    this.#data = stored ? structuredClone(stored.data) : {}
    this.expiresAt = expiresAt
  }

  get id(): string {
    return this.#id
  }

  get data(): Readonly<Partial<Data>> {
    return { ...this.#data } as Partial<Data>
  }

  get<K extends keyof Data>(key: K): Data[K] | undefined {
    return this.#data[key as string] as Data[K] | undefined
  }

  has(key: keyof Data): boolean {
    return this.#data[key as string] !== undefined
  }

  set<K extends keyof Data>(key: K, value: Data[K]): void {
    const name = keyName(key)
    checkJson('session.set', name, value)
    this.#data[name] = value as JsonValue
    this.#dirty.add(name)
    delete this.#increments[name]
  }

  delete(key: keyof Data): void {
    const name = keyName(key)
    if (this.#data[name] === undefined && !this.#dirty.has(name)) return
    delete this.#data[name]
    this.#dirty.add(name)
    delete this.#increments[name]
  }

  increment(key: keyof Data, by = 1): void {
    const name = keyName(key)
    if (typeof by !== 'number' || !Number.isFinite(by)) {
      throw new TypeError(`session.increment("${name}"): by must be a finite number, got ${by}`)
    }
    const current = this.#data[name]
    if (current !== undefined && typeof current !== 'number') {
      throw new TypeError(
        `session.increment("${name}"): the value is a ${typeof current}, not a number`,
      )
    }
    this.#data[name] = (current ?? 0) + by
    // A key set in this request is written whole; otherwise DynamoDB adds, so no count is lost.
    if (!this.#dirty.has(name)) this.#increments[name] = (this.#increments[name] ?? 0) + by
  }

  flash(key: string, value: unknown): void {
    const name = keyName(key)
    checkJson('session.flash', name, value)
    this.#flashOut[name] = value as JsonValue
  }

  takeFlash<K extends keyof Flash & string>(key: K): Flash[K] | undefined {
    return this.#stored?.flash[key] as Flash[K] | undefined
  }

  regenerate(): void {
    if (this.#stored && !this.#deleteId) this.#deleteId = this.#id
    this.#id = newId()
    this.#fresh = true
  }

  destroy(): void {
    this.regenerate()
    this.#data = {}
    this.#dirty.clear()
    for (const key of Object.keys(this.#increments)) delete this.#increments[key]
    this.#flashOut = {}
    this.#destroyed = true
    this.expiresAt = null
  }

  touch(): void {
    this.#touch = true
  }

  /** True when the request destroyed the stored session. */
  get destroyed(): boolean {
    return this.#destroyed
  }

  /** What this request changed. Keys set to the value they were loaded with are not changes. */
  changes(): SessionChanges {
    const set: Record<string, JsonValue> = {}
    const remove: string[] = []
    const stored = this.#stored?.data
    // A fresh item is written whole; a stored one gets only the keys that really changed.
    for (const key of this.#fresh ? Object.keys(this.#data) : this.#dirty) {
      const value = this.#data[key]
      if (value === undefined) {
        if (stored?.[key] !== undefined) remove.push(key)
        continue
      }
      const why = whyNotJson(value)
      if (why) throw new TypeError(`session value "${key}" was changed after set(): ${why}`)
      if (
        this.#fresh ||
        stored?.[key] === undefined ||
        JSON.stringify(stored[key]) !== JSON.stringify(value)
      ) {
        set[key] = value
      }
    }
    return {
      set,
      remove,
      increment: this.#fresh ? {} : { ...this.#increments },
      flash: this.#flashOut,
      fresh: this.#fresh,
      deleteId: this.#deleteId,
      touch: this.#touch,
    }
  }
}
