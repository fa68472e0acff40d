/**
 * @module The session item's operations: load, create, update (per key, or whole past
 * DynamoDB's expression limits), end (a tombstone), move (a sign-in) and bury (the undo of a new
 * item). Every write bumps the version `v` and carries the request's stamp (`tokens.ts`), so it
 * is applied at most once, whatever is retried or arrives late.
 */
import { applyChanges, type SessionChanges } from '../changes.ts'
import type { SessionTable } from '../connection.ts'
import { DynamoSessionError } from '../errors.ts'
import type { JsonValue } from '../marshall.ts'
import { mapEntries, toAttribute } from '../marshall.ts'
import { all, Expression, leaseHeld, live, releasing, versioned } from './expressions.ts'
import {
  type Item,
  type ItemState,
  isLegacy,
  keyOf,
  N,
  parseItem,
  type RawItem,
  type SessionContent,
  STAMP_LENGTH,
  type StoredSession,
  sessionItem,
  tombstone,
} from './item.ts'
import { applied, belowFloor, type Stamp, stampUpdate, tokensAfter } from './tokens.ts'

/** Writes that depend on the item as read are tried this often while others keep writing it. */
export const ATTEMPTS = 4

/** DynamoDB refuses longer expressions (4 KB) and more than 300 operators and functions. */
const MAX_EXPRESSION = 4000
const MAX_OPERATORS = 290

/** A change refused because the session ended (409): nothing of it was stored. */
export const gone = (): DynamoSessionError =>
  new DynamoSessionError(
    'SESSION_GONE',
    'session ended meanwhile (logout, login or expiry); nothing saved',
  )

/** The session kept changing under a write that needs it unchanged (503). */
export const contended = (): DynamoSessionError =>
  new DynamoSessionError('CONTENDED', 'session kept changing; nothing saved')

/** A failed condition: the item as it is now (`{}` for none) and the attempts the call made. */
interface Refused {
  current: RawItem
  attempts: number
}

/** One write: its answer, or what refused it when its condition failed; throws anything else. */
export async function write(
  table: SessionTable,
  op: string,
  input: Record<string, unknown>,
  x: Expression,
): Promise<{ answer: { Attributes?: Item } } | Refused> {
  try {
    return {
      answer: await table.send(op, {
        TableName: table.name,
        ...input,
        ...x.input,
        ReturnConsumedCapacity: 'TOTAL',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    }
  } catch (error) {
    const e = error as DynamoSessionError
    if (e?.code !== 'CONDITION_FAILED') throw error
    return { current: (e.item ?? {}) as RawItem, attempts: e.attempts ?? 1 }
  }
}

/** Loads the item of a stored key, or undefined. */
export async function getItem(
  table: SessionTable,
  key: string,
  consistentRead: boolean,
): Promise<Item | undefined> {
  const out = await table.send('GetItem', {
    TableName: table.name,
    Key: keyOf(key),
    ConsistentRead: consistentRead,
    ReturnConsumedCapacity: 'TOTAL',
  })
  return out.Item
}

/** A new item of a session: all but its version and tokens (its flash values by key). */
export type NewItem = Omit<SessionContent, 'v' | 'w' | 'wf'>

/**
 * Writes a new item: if `v` is 0, one that does not exist yet; otherwise over the item this
 * request wrote with version `v` (a sign-in's replay), so a late duplicate lands on nothing.
 */
async function putNew(
  table: SessionTable,
  key: string,
  item: NewItem,
  token: string,
  at: number,
  v: number,
): Promise<void> {
  const x = new Expression()
  const r = await write(
    table,
    'PutItem',
    {
      Item: sessionItem(key, { ...item, v: v + 1, w: { [token]: at }, wf: 0 }),
      ConditionExpression: v ? versioned(x, v) : `attribute_not_exists(${x.path('id')})`,
    },
    x,
  )
  if ('current' in r && !r.current.w?.M?.[token]) throw contended()
}

/** Creates a new session's item. */
export const createItem = (
  table: SessionTable,
  key: string,
  item: NewItem,
  stamp: Stamp,
): Promise<void> =>
  putNew(table, key, { ...item, flash: flashEntries(item.flash, stamp) }, stamp.token, stamp.at, 0)

/**
 * Replaces an item with a tombstone whatever it holds: the undo of a new item this request wrote
 * and cannot keep. Its version is past any rewrite of a sign-in, so no late one lands on it.
 */
export async function buryItem(table: SessionTable, key: string, now: number): Promise<void> {
  await write(table, 'PutItem', { Item: tombstone(key, now, 1000, {}, 0) }, new Expression())
}

/** The flash entries of this request's `flash()` calls, named by its stamp. */
export const flashEntries = (
  flash: Record<string, JsonValue>,
  stamp: Stamp,
): Record<string, JsonValue> => {
  const prefix = `${stamp.at.toString(36).padStart(9, '0')}${stamp.token}`.slice(0, STAMP_LENGTH)
  return mapEntries(flash, ([k, v]) => [prefix + k, v])
}

/** The flash entries a session keeps: those stored now, but those this request read, and its own. */
const keptFlash = (now: StoredSession, read: StoredSession, own: Record<string, JsonValue>) => {
  const flash = { ...now.flash }
  for (const k of Object.keys(read.flash)) delete flash[k]
  return Object.assign(flash, own)
}

/**
 * The live session a refused write met, when its version or stamp refused it.
 * @throws SESSION_GONE when it has ended or expired, LOCK_LOST when another request took the lease
 */
function liveOf(found: ItemState, current: RawItem, lease: string | undefined): StoredSession {
  if (found.state !== 'live') throw gone()
  if (lease && current.leaseOwner?.S !== lease) {
    throw new DynamoSessionError(
      'LOCK_LOST',
      'lease taken by another request after locking.leaseMs; nothing saved',
    )
  }
  return found.session
}

/**
 * Ends a session: a tombstone replaces the item, on condition that nothing was written since
 * `stored` was read (and that this request holds the lease). The tombstone keeps the tokens of
 * the writes it ends, so their retries are still recognised. A sign-in passes the new key `to`,
 * which its tombstone names. A sign-out or revocation (no `to`) that finds the session signed
 * out or revoked already has done its work; a sign-in has not.
 * @returns true, or the session as it is now when another request wrote it meanwhile
 * @throws SESSION_GONE when it had ended (moved by a sign-in, for a sign-out) or expired, LOCK_LOST
 */
export async function endItem(
  table: SessionTable,
  key: string,
  stored: StoredSession,
  stamp: Stamp,
  now: number,
  lease: string | undefined,
  to?: string,
): Promise<true | StoredSession> {
  const x = new Expression()
  // Every token the session had, none pruned: a retry of a write applied just before the end
  // finds its token and is answered 200 (its change ended with the session, or moved with it).
  const w = { ...stored.w, [stamp.token]: stamp.at }
  const { uid, created } = stored
  const r = await write(
    table,
    'PutItem',
    {
      Item: tombstone(key, now, stored.v + 1, w, stored.wf, to ? { to, uid, created } : undefined),
      ConditionExpression: all(versioned(x, stored.v), live(x, now), lease && leaseHeld(x, lease)),
    },
    x,
  )
  if (!('current' in r) || applied(r.current, stamp)) return true
  const found = parseItem(r.current, now)
  if (found.state === 'ended' && !found.moved && !to) return true
  return liveOf(found, r.current, lease)
}

/**
 * Ends a session, re-reading while other requests write it. A sign-in passes its new key `to` and
 * `before`, which writes its new item from the session as it now is before each attempt; a
 * sign-out does not.
 */
export async function endSession(
  table: SessionTable,
  key: string,
  stored: StoredSession,
  stamp: Stamp,
  now: number,
  lease?: string,
  to?: string,
  before?: (base: StoredSession, attempt: number) => Promise<void>,
): Promise<void> {
  let base = stored
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    await before?.(base, attempt)
    const ended = await endItem(table, key, base, stamp, now, lease, to)
    if (ended === true) return
    base = ended
  }
  throw contended()
}

/** The parts of a save to an existing session. */
export interface ItemUpdate {
  changes: Pick<SessionChanges, 'set' | 'remove' | 'increment' | 'flash'>
  /** The session as this request loaded it. */
  stored: StoredSession
  /** The new expiry, or undefined to leave it. */
  expires?: number
  /** Epoch seconds: the item must not have expired. */
  now: number
  stamp: Stamp
  /** How long tokens are kept (`tokenKeepMs`). */
  keepMs: number
  /** The lease token to check and release, with locking. */
  lease?: string
}

/**
 * Updates only the changed keys of a session (and removes the flash values this request read),
 * so concurrent requests that change other keys keep their changes; never creates an item, so
 * an ended session stays ended. Past DynamoDB's expression limits (and on an item written by
 * 0.1, which this upgrades) the whole item is written under the version read, re-reading and
 * replaying this request's changes when another request wrote meanwhile.
 * @returns 'ended' when the write was applied but the session has ended since
 */
export async function updateItem(
  table: SessionTable,
  key: string,
  u: ItemUpdate,
): Promise<'live' | 'ended'> {
  let stored = u.stored
  let stamp = u.stamp
  const flash = flashEntries(u.changes.flash, stamp)
  for (let attempt = 1; ; attempt++) {
    let x = new Expression()
    const perKey = isLegacy(stored) ? undefined : perKeyUpdate(x, u, stored, stamp, flash)
    // A per-key expression past the limits is dropped whole, its aliases with it.
    if (!perKey) x = new Expression()
    const condition = all(live(x, u.now), u.lease && leaseHeld(x, u.lease))
    // Built whatever the write: it refuses a session over DynamoDB's item limit before any call.
    const whole = wholeItem(key, u, stored, stamp, flash)
    const r = perKey
      ? await write(
          table,
          'UpdateItem',
          {
            Key: keyOf(key),
            UpdateExpression: perKey[0],
            ConditionExpression: all(condition, perKey[1]),
          },
          x,
        )
      : await write(
          table,
          'PutItem',
          { Item: whole, ConditionExpression: all(versioned(x, stored.v), condition) },
          x,
        )
    if (!('current' in r)) return 'live'
    if (applied(r.current, stamp)) return r.current.end ? 'ended' : 'live'
    const found = parseItem(r.current, u.now)
    // Ended, without this write's token, but its floor past the write: after a retry, whether an
    // attempt was applied (and carried over by a sign-in) can no longer be told, so not a 409.
    if (found.state !== 'live' && r.attempts > 1 && Number(r.current.wf?.N) > stamp.at) {
      throw contended()
    }
    stored = liveOf(found, r.current, u.lease)
    if (attempt >= ATTEMPTS) throw contended()
    if (perKey && belowFloor(stored, stamp)) {
      // Refused for good: a first attempt was never applied and goes again with a new time;
      // after a retry, whether one was applied can no longer be told.
      if (r.attempts > 1) throw contended()
      stamp = { ...stamp, at: Math.max(Date.now(), stored.wf) }
    }
  }
}

/**
 * Removes the flash values a read showed from where a sign-in moved the session while the read's
 * clean-up was under way (the move carried them over), following each tombstone to the item it
 * names: a value shown once is never shown again.
 */
export async function clearMovedFlash(
  table: SessionTable,
  key: string,
  shown: string[],
  now: number,
): Promise<void> {
  let found = parseItem(await getItem(table, key, true), now)
  for (let hop = 0; hop < ATTEMPTS && found.state === 'ended' && found.to; hop++) {
    const x = new Expression()
    const removes = shown.map((k) => x.path('flash', k)).join(', ')
    const r = await write(
      table,
      'UpdateItem',
      {
        Key: keyOf(found.to),
        UpdateExpression: `REMOVE ${removes} ADD ${x.path('v')} ${x.value(N(1))}`,
        ConditionExpression: live(x, now),
      },
      x,
    )
    if (!('current' in r)) return
    found = parseItem(r.current, now)
  }
}

/** The whole item after this request's changes, replayed on `stored`. */
function wholeItem(
  key: string,
  u: ItemUpdate,
  stored: StoredSession,
  stamp: Stamp,
  flash: Record<string, JsonValue>,
): Item {
  const { w, wf } = tokensAfter(stored, stamp, u.keepMs)
  const item = sessionItem(key, {
    ...stored,
    data: applyChanges(stored.data, u.changes),
    flash: keptFlash(stored, u.stored, flash),
    expires: u.expires ?? stored.expires,
    v: stored.v + 1,
    w,
    wf,
  })
  // Written whole, the lease is released by its absence; the floor keeps late takes out.
  if (u.lease) item.lf = N(Date.now())
  return item
}

/**
 * `SET`/`REMOVE` of each changed key, and the condition that this write's stamp is new: the
 * update expression and its condition; undefined past DynamoDB's limits.
 */
function perKeyUpdate(
  x: Expression,
  u: ItemUpdate,
  stored: StoredSession,
  stamp: Stamp,
  flash: Record<string, JsonValue>,
): [update: string, condition: string] | undefined {
  const { set, remove, increment } = u.changes
  const value = (v: JsonValue) => x.value(toAttribute(v))
  const sets = Object.keys(set).map((k) => `${x.path('data', k)} = ${value(set[k])}`)
  const removes = remove.map((k) => x.path('data', k))
  for (const k of Object.keys(increment)) {
    const path = x.path('data', k)
    sets.push(`${path} = if_not_exists(${path}, ${x.value(N(0))}) + ${x.value(N(increment[k]))}`)
  }
  for (const k of Object.keys(flash)) sets.push(`${x.path('flash', k)} = ${value(flash[k])}`)
  for (const k of Object.keys(u.stored.flash)) removes.push(x.path('flash', k))
  if (u.expires !== undefined) sets.push(`${x.path('expires')} = ${x.value(N(u.expires))}`)
  // The save releases the lease in the same write.
  if (u.lease) {
    const release = releasing(x)
    sets.push(release.set)
    removes.push(release.remove)
  }
  const condition = stampUpdate(x, stored, stamp, u.keepMs, sets, removes)
  const update = `SET ${sets.join(', ')} ${removes.length ? `REMOVE ${removes.join(', ')} ` : ''}ADD ${x.path('v')} ${x.value(N(1))}`
  return update.length < MAX_EXPRESSION && Object.keys(increment).length * 2 < MAX_OPERATORS
    ? [update, condition]
    : undefined
}

/** Where a sign-in moves a session: the new key and what its item holds besides the data. */
export interface MoveTarget {
  key: string
  item: Omit<NewItem, 'data' | 'flash'>
}

/**
 * Moves a session to a new key (a sign-in): the new item first, then the old one ended under the
 * version read. When another request wrote meanwhile, its stored changes (and flash values) are
 * taken in, this request's replayed on them, and the new item rewritten over its own last
 * version. On any failure the new item is given to `bury`: nothing is left behind.
 */
export async function moveSession(
  table: SessionTable,
  from: { key: string; stored: StoredSession },
  to: MoveTarget,
  changes: SessionChanges,
  stamp: Stamp,
  now: number,
  lease: string | undefined,
  bury: (key: string) => Promise<void>,
): Promise<void> {
  const flash = flashEntries(changes.flash, stamp)
  let v = 0
  try {
    await endSession(table, from.key, from.stored, stamp, now, lease, to.key, (base, attempt) => {
      v = attempt
      const item = {
        ...to.item,
        data: applyChanges(base.data, changes),
        flash: keptFlash(base, from.stored, flash),
      }
      // Each rewrite has its own token: an earlier one being there proves nothing of this one.
      return putNew(table, to.key, item, stamp.token + v, stamp.at, v)
    })
  } catch (error) {
    if (v || !(error instanceof DynamoSessionError && error.code === 'TOO_LARGE')) {
      await bury(to.key)
    }
    throw error
  }
}
