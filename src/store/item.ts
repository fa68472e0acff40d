/**
 * @module The session item: its attributes, how one is read (items written by 0.1 included) and
 * built, and its size. Attribute names are spelled only in `store/`.
 */
import { DynamoSessionError } from '../errors.ts'
import {
  type AttributeValue,
  fromAttribute,
  fromAttributeMap,
  type JsonValue,
  mapEntries,
  mapSize,
  toAttribute,
} from '../marshall.ts'

/** DynamoDB's item size limit, in bytes. */
export const MAX_ITEM_BYTES: number = 400 * 1024

/**
 * How long a tombstone stays: it tells late requests of an ended session apart from unknown ones,
 * refuses late duplicates of writes to it, and holds the tokens of the writes it ended.
 */
export const TOMBSTONE_SECONDS = 3600

/** Flash entries are named by the stamp of the write that stored them, then their key. */
export const STAMP_LENGTH = 17

/** A DynamoDB item as the JSON API carries it. */
export type Item = Record<string, AttributeValue>

/** An item as DynamoDB returned it, read loosely. */
export type RawItem = Record<string, { M?: Item; S?: string; N?: string } | undefined>

/** What every session item holds besides its data. */
interface Identity {
  /** Epoch seconds. */
  expires: number
  /** Epoch seconds: the start of the session, carried through sign-ins, for `absoluteMaxAge`. */
  created: number
  /** The opaque name `session.handle` shows. */
  handle: string
  /** The user bound by `regenerate({ userId })`. */
  uid?: string
  /** What `describe(c)` returned when the user was bound. */
  device?: JsonValue
}

/** A stored session as loaded from DynamoDB. */
export interface StoredSession extends Identity {
  /** The data as stored (before any schema). */
  data: Record<string, JsonValue>
  /** Flash values by entry name: the stamp of the write that stored them, then their key. */
  flash: Record<string, JsonValue>
  /** The version, bumped by every write; 0 on an item written by 0.1. */
  v: number
  /** Write tokens of recent writes with the time (epoch ms) of each; undefined on 0.1 items. */
  w: Record<string, number> | undefined
  /** Every token written before this time (epoch ms) and not in `w` was never applied. */
  wf: number
}

/** What an item holds, as far as a request is concerned. */
export type ItemState =
  | { state: 'live'; session: StoredSession }
  /**
   * A tombstone: the session ended at `at` (epoch seconds), `moved` by a sign-in (to the key
   * `to`, on tombstones written since 0.3) or else by a sign-out or revocation (its writes' tokens
   * are read from the item itself, by `applied()`).
   */
  | { state: 'ended'; at: number; moved: boolean; to: string | undefined }
  /** No item, or an expired one. */
  | { state: 'absent' }

const ABSENT: ItemState = { state: 'absent' }

/** The key of a session's item. */
export const keyOf = (id: string): Item => ({ id: { S: id } })

/** A number attribute value. */
export const N = (n: number): AttributeValue => ({ N: String(n) })

/**
 * Reads an item. Expired items are absent even before TTL deletes them (it can lag by days).
 * An item written by 0.1 reads with version 0, no tokens, and its flash values under stamp 0.
 * @throws INVALID_DATA when it is not an item this library wrote
 */
export function parseItem(item: Record<string, unknown> | undefined, now: number): ItemState {
  const raw = (item ?? {}) as RawItem
  const { data, flash, v, w } = raw
  const expires = Number(raw.expires?.N)
  if (!(expires > now)) return ABSENT
  if (raw.end) {
    return {
      state: 'ended',
      at: expires - TOMBSTONE_SECONDS,
      moved: raw.end.S === 'm',
      to: raw.to?.S,
    }
  }
  try {
    const entries = flash ? fromAttributeMap(flash.M as Item) : {}
    return {
      state: 'live',
      session: {
        data: fromAttributeMap(data?.M as Item),
        flash: v ? entries : mapEntries(entries, ([k, x]) => ['0'.repeat(STAMP_LENGTH) + k, x]),
        expires,
        created: Number((raw.created as { N: string }).N),
        // A session stored before handles (0.2) is named by its key's start: stable, and no
        // more use for forging a cookie than the key itself.
        handle: raw.h?.S ?? raw.id?.S?.slice(0, 16) ?? '',
        uid: raw.uid?.S,
        device: raw.device && fromAttribute(raw.device as AttributeValue),
        v: v ? Number(v.N) : 0,
        w: w && (fromAttributeMap(w.M as Item) as Record<string, number>),
        wf: Number(raw.wf?.N ?? 0),
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

/** What a session item holds, whole. */
export interface SessionContent extends Identity {
  data: Record<string, JsonValue>
  flash: Record<string, JsonValue>
  v: number
  w: Record<string, number>
  wf: number
}

/** The whole item of a session; refused over DynamoDB's limit before it is sent. */
export function sessionItem(id: string, s: SessionContent): Item {
  const item: Item = {
    ...keyOf(id),
    data: toAttribute(s.data),
    flash: toAttribute(s.flash),
    expires: N(s.expires),
    created: N(s.created),
    v: N(s.v),
    w: toAttribute(s.w),
    wf: N(s.wf),
    h: { S: s.handle },
  }
  if (s.uid) item.uid = { S: s.uid }
  if (s.device !== undefined) item.device = toAttribute(s.device)
  // The lease attributes (5 + 8, 10 + 43) at most come on top.
  const size = mapSize(item) + 70
  if (size > MAX_ITEM_BYTES) {
    throw new DynamoSessionError(
      'TOO_LARGE',
      `session of ${size} bytes is over the 400 KB (${MAX_ITEM_BYTES} bytes) item limit; nothing saved`,
    )
  }
  return item
}

/**
 * Where a sign-in moved a session: the new item's key, and the user and creation time of the old
 * one, which its tombstone keeps so that it stays in the user index, pointing to the new item.
 */
export interface Moved {
  to: string
  uid: string | undefined
  created: number
}

/**
 * The tombstone that replaces an ended session's item: it keeps the tokens of its writes. The
 * tombstone of a sign-in (`moved`) names the new item, and a bound one stays in the user index,
 * so a revocation racing the sign-in finds the session where it went (`users.ts`).
 */
export const tombstone = (
  id: string,
  now: number,
  v: number,
  w: Record<string, number>,
  wf: number,
  moved?: Moved,
): Item => ({
  ...keyOf(id),
  end: { S: moved ? 'm' : '1' },
  expires: N(now + TOMBSTONE_SECONDS),
  v: N(v),
  w: toAttribute(w),
  wf: N(wf),
  ...(moved && { to: { S: moved.to } }),
  ...(moved?.uid && { uid: { S: moved.uid }, created: N(moved.created) }),
})
