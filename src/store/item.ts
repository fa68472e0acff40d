/**
 * @module The session item: its attributes, how one is read (items written by 0.1 included) and
 * built, and its size. Attribute names are spelled only in `store/`.
 */
import { DynamoSessionError } from '../errors.ts'
import {
  type AttributeValue,
  fromAttributeMap,
  type JsonValue,
  mapSize,
  toAttributeMap,
} from '../marshall.ts'

/** DynamoDB's item size limit, in bytes. */
export const MAX_ITEM_BYTES: number = 400 * 1024

/** How long a tombstone tells late requests of an ended session apart from unknown ones. */
export const TOMBSTONE_SECONDS = 3600

/** A DynamoDB item as the JSON API carries it. */
export type Item = Record<string, AttributeValue>

/** An item as DynamoDB returned it, read loosely. */
export type RawItem = Record<string, { M?: Item; S?: string; N?: string } | undefined>

/** A stored session as loaded from DynamoDB. */
export interface StoredSession {
  /** The data as stored (before any schema). */
  data: Record<string, JsonValue>
  flash: Record<string, JsonValue>
  /** Epoch seconds. */
  expires: number
  /** Epoch seconds. */
  created: number
  /** The version, bumped by every write; 0 on an item written by 0.1. */
  v: number
  /** Write tokens of recent requests, with the epoch second each was written; none on 0.1 items. */
  w: Record<string, number> | undefined
}

/** What an item holds, as far as a request is concerned. */
export type ItemState =
  | { state: 'live'; session: StoredSession }
  /** A tombstone: another request ended the session at `at` (epoch seconds). */
  | { state: 'ended'; at: number }
  /** No item, or an expired one. */
  | { state: 'absent' }

const ABSENT: ItemState = { state: 'absent' }

/** The key of a session's item. */
export const keyOf = (id: string): Item => ({ id: { S: id } })

/** A number attribute value. */
export const N = (n: number): AttributeValue => ({ N: String(n) })

/**
 * Reads an item. Expired items are absent even before TTL deletes them (it can lag by days).
 * @throws INVALID_DATA when it is not an item this library wrote
 */
export function parseItem(item: Record<string, unknown> | undefined, now: number): ItemState {
  const { data, flash, expires, created, v, w, end } = (item ?? {}) as RawItem
  if (!(Number(expires?.N) > now)) return ABSENT
  if (end) return { state: 'ended', at: Number(expires?.N) - TOMBSTONE_SECONDS }
  try {
    return {
      state: 'live',
      session: {
        data: fromAttributeMap(data?.M as Item),
        flash: flash ? fromAttributeMap(flash.M as Item) : {},
        expires: Number(expires?.N),
        created: Number((created as { N: string }).N),
        v: v ? Number(v.N) : 0,
        w: w && (fromAttributeMap(w.M as Item) as Record<string, number>),
      },
    }
  } catch (cause) {
    throw new DynamoSessionError('INVALID_DATA', 'stored item is not a session', { cause })
  }
}

/**
 * True for an item written by 0.1, which has no version and no token map: its first write
 * replaces it whole (`store.ts`), which upgrades it, so per-key writes never meet one.
 */
export const isLegacy = (stored: StoredSession): boolean => !stored.w

/** What a new session item holds. */
export interface NewSession {
  data: Record<string, JsonValue>
  flash: Record<string, JsonValue>
  expires: number
  created: number
}

/** What a whole session item holds. */
export interface SessionContent {
  data: Record<string, JsonValue>
  flash: Record<string, JsonValue>
  expires: number
  created: number
  v: number
  w: Record<string, number>
}

/** The whole item of a session; refused over DynamoDB's limit before it is sent. */
export function sessionItem(id: string, s: SessionContent): Item {
  const data = toAttributeMap(s.data)
  const flash = toAttributeMap(s.flash)
  const w = toAttributeMap(s.w)
  // id (2 + 43), the names and map overheads, expires, created, v (7 + up to 21 each) and the
  // lease attributes (5 + 8, 10 + 43) at most.
  const size = 220 + mapSize(data) + mapSize(flash) + mapSize(w)
  if (size > MAX_ITEM_BYTES) {
    throw new DynamoSessionError(
      'TOO_LARGE',
      `session of ${size} bytes is over DynamoDB's 400 KB item limit (${MAX_ITEM_BYTES} bytes); nothing saved`,
    )
  }
  return {
    ...keyOf(id),
    data: { M: data },
    flash: { M: flash },
    expires: N(s.expires),
    created: N(s.created),
    v: N(s.v),
    w: { M: w },
  }
}

/** The tombstone that replaces an ended session's item. */
export const tombstone = (id: string, now: number, v: number, token: string): Item => ({
  ...keyOf(id),
  end: { S: '1' },
  expires: N(now + TOMBSTONE_SECONDS),
  v: N(v),
  w: { M: { [token]: N(now) } },
})
