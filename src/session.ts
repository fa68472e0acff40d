/**
 * @module The session state of one request: what the handler sees and what changed. Pure: it
 * knows nothing of Hono or DynamoDB.
 */
import { newId } from './cookie.ts'
import { type JsonValue, whyNotJson } from './marshall.ts'

/** The session as a handler sees it, through `c.get('session')`. */
export interface Session<Data extends object = Record<string, unknown>> {
  /** The id the cookie carries. A new session gets one at once; it is stored only when written. */
  readonly id: string
  /** True when no stored session was loaded for this request. */
  readonly isNew: boolean
  /** When the stored session expires (after this request's touch), or null when not stored. */
  readonly expiresAt: Date | null
  /** The value of a key, or undefined. */
  get<K extends keyof Data>(key: K): Data[K] | undefined
  /** Sets a key to a JSON value; throws a TypeError naming the key for anything else. */
  set<K extends keyof Data>(key: K, value: Data[K]): void
  /** Removes a key. */
  delete(key: keyof Data): void
  /** True when the key has a value. */
  has(key: keyof Data): boolean
  /** A copy of all keys and values. */
  readonly data: Readonly<Partial<Data>>
  /** Adds `by` (default 1) to a numeric key, atomically in DynamoDB: concurrent increments all count. */
  increment(key: keyof Data, by?: number): void
  /** Stores a value that the next request can read once with `takeFlash`. */
  flash(key: string, value: unknown): void
  /** Reads a value the previous request flashed; flashed values last one request. */
  takeFlash(key: string): unknown
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
export class SessionState<Data extends object = Record<string, unknown>> implements Session<Data> {
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

  takeFlash(key: string): unknown {
    return this.#stored?.flash[key]
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
