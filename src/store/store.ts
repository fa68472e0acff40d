/**
 * @module The session item's operations: load, create, update (per key, or whole past
 * DynamoDB's expression limits), end (a tombstone), and move (a sign-in). Every write bumps the
 * version `v`; the write-token policy says which writes carry the request's token in `w`, so a
 * retry of a write DynamoDB already applied is recognised instead of applied twice.
 */
import { applyChanges, type SessionChanges } from '../changes.ts'
import type { SessionTable } from '../connection.ts'
import { DynamoSessionError } from '../errors.ts'
import { toAttribute } from '../marshall.ts'
import { all, Expression, leaseHeld, live, versioned } from './expressions.ts'
import {
  type Item,
  isLegacy,
  keyOf,
  N,
  type NewSession,
  parseItem,
  type RawItem,
  type StoredSession,
  sessionItem,
  tombstone,
} from './item.ts'

/** Writes that depend on the version read are tried this often while others keep writing, then CONTENDED. */
export const ATTEMPTS = 4

/**
 * How long a write token is kept: while a retry of its write may still come (the retry budget),
 * with room for clocks that differ between instances.
 */
export const tokenKeepSeconds = (budgetMs: number): number => Math.ceil(budgetMs / 1000) + 30

/** DynamoDB refuses longer expressions (4 KB) and more than 300 operators and functions. */
const MAX_EXPRESSION = 4000
const MAX_OPERATORS = 290

/** A change refused because another request ended the session (409). */
export const gone = (cause?: unknown): DynamoSessionError =>
  new DynamoSessionError(
    'SESSION_GONE',
    'session ended by another request (logout or login) or expired; nothing saved',
    { cause },
  )

/** The session kept changing under a write that needs it unchanged (503). */
export const contended = (): DynamoSessionError =>
  new DynamoSessionError('CONTENDED', 'session kept changing under this write; nothing saved')

/**
 * One write. Returns its answer, or the item as it is now (`{}` for none) when the condition
 * failed; throws anything else.
 */
export async function write(
  table: SessionTable,
  op: string,
  input: Record<string, unknown>,
  x: Expression,
): Promise<[answer?: { Attributes?: Item }, current?: RawItem]> {
  try {
    return [
      await table.send(op, {
        TableName: table.name,
        ...input,
        ...x.input(),
        ReturnConsumedCapacity: 'TOTAL',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    ]
  } catch (error) {
    if ((error as DynamoSessionError)?.code !== 'CONDITION_FAILED') throw error
    return [undefined, ((error as DynamoSessionError).item ?? {}) as RawItem]
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

/**
 * Creates an item. `ours` (a key nobody else knows yet, rewritten on a retry of a sign-in)
 * skips the condition; otherwise an existing item is never overwritten. Ids are 256 random bits:
 * an item already there was written by an earlier attempt whose reply was lost.
 */
export async function putItem(
  table: SessionTable,
  key: string,
  item: NewSession,
  ours = false,
): Promise<void> {
  const x = new Expression()
  await write(
    table,
    'PutItem',
    {
      Item: sessionItem(key, { ...item, v: 1, w: {} }),
      ConditionExpression: ours ? undefined : `attribute_not_exists(${x.path('id')})`,
    },
    x,
  )
}

/**
 * Ends a session: a tombstone replaces the item, so late requests of the old id can tell "ended
 * by another request" from "expired". With `exact` (a sign-in) only if nothing was written since
 * `stored` was read; otherwise (a sign-out) whenever the session is still live.
 * @returns true, or the session as it is now when another request wrote it meanwhile
 * @throws SESSION_GONE when it was ended or expired meanwhile
 */
export async function endItem(
  table: SessionTable,
  key: string,
  token: string,
  now: number,
  stored: StoredSession,
  exact: boolean,
): Promise<true | StoredSession> {
  const x = new Expression()
  const [, current] = await write(
    table,
    'PutItem',
    {
      Item: tombstone(key, now, stored.v + 1, token),
      ConditionExpression: all(exact && versioned(x, stored.v), live(x, now)),
    },
    x,
  )
  // No conflict, or an earlier attempt of this very write was applied and its reply lost.
  if (!current || current.w?.M?.[token]) return true
  const found = parseItem(current, now)
  if (!exact || found.state !== 'live') throw gone()
  return found.session
}

/** Deletes an item, whatever state it is in. */
export async function deleteItem(table: SessionTable, key: string): Promise<void> {
  await table.send('DeleteItem', { TableName: table.name, Key: keyOf(key) })
}

/** The parts of an UpdateItem on an existing session. */
export interface ItemUpdate {
  changes: Pick<SessionChanges, 'set' | 'remove' | 'increment' | 'flash'>
  /** The session as this request loaded it. */
  stored: StoredSession
  /** The new expiry, or undefined to leave it. */
  expires?: number
  /** Epoch seconds: the item must not have expired. */
  now: number
  /** This request's write token. */
  token: string
  /** Write tokens older than this epoch second are removed. */
  staleBefore: number
  /** The lease token to check and release, with locking. */
  lease?: string
}

/**
 * The write-token policy, the one place that says which writes carry the request's token so a
 * retry of one DynamoDB already applied is recognised. A retry of a blind SET/REMOVE writes the
 * same values again; increments, lease-checked writes and whole-item writes would not. A write
 * that changes nothing of the handler's (a touch, a flash clean-up) needs none unless
 * lease-checked.
 */
export function tokenOf(u: ItemUpdate, whole: boolean): string | undefined {
  const { set, remove, increment, flash } = u.changes
  const increments = Object.keys(increment).length > 0
  const changed = increments || remove.length > 0 || Object.keys({ ...set, ...flash }).length > 0
  return u.lease || (changed && (whole || increments)) ? u.token : undefined
}

/**
 * Updates only the changed keys of a session (and removes the flash values this request read),
 * so concurrent requests that change other keys keep their changes; never creates an item, so
 * an ended session stays ended. Past DynamoDB's expression limits (and on an item written by
 * 0.1, which this upgrades) the whole item is written under the version read, re-reading and
 * replaying this request's changes when another request wrote meanwhile.
 */
export async function updateItem(table: SessionTable, key: string, u: ItemUpdate): Promise<void> {
  let stored = u.stored
  // A token is dated when it is written, not when the request began (handlers can be slow), so
  // later requests keep it for the whole window in which this write may be retried.
  const at = Math.max(u.now, Math.floor(Date.now() / 1000))
  for (let attempt = 0; ; attempt++) {
    let x = new Expression()
    const perKey = isLegacy(stored) ? undefined : perKeyUpdate(x, u, stored, at)
    // A per-key expression past the limits is dropped whole, its aliases with it.
    if (!perKey) x = new Expression()
    const condition = all(live(x, u.now), u.lease && leaseHeld(x, u.lease))
    const token = tokenOf(u, !perKey)
    // Built whatever the write: it refuses a session over DynamoDB's item limit before any call.
    const whole = wholeItem(key, u, stored, token, at)
    const [, current] = perKey
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
          {
            Item: whole,
            ConditionExpression: all(versioned(x, stored.v), condition),
          },
          x,
        )
    if (!current || (token && current.w?.M?.[token])) return
    const found = parseItem(current, u.now)
    if (found.state !== 'live') throw gone()
    if (u.lease && current.leaseOwner?.S !== u.lease) {
      throw new DynamoSessionError(
        'LOCK_LOST',
        'lease expired (locking.leaseMs) and was taken by another request; nothing saved',
      )
    }
    if (attempt >= ATTEMPTS - 1) throw contended()
    stored = found.session
  }
}

/** The whole item after this request's changes, replayed on `stored`. */
function wholeItem(
  key: string,
  u: ItemUpdate,
  stored: StoredSession,
  token: string | undefined,
  at: number,
): Item {
  const w = Object.fromEntries(Object.entries(stored.w ?? {}).filter(([, t]) => t >= u.staleBefore))
  if (token) w[token] = at
  // Only the flash values this request read are consumed: on a replay, those another request
  // wrote meanwhile stay for the next one.
  const flash = { ...stored.flash, ...u.changes.flash }
  for (const k of Object.keys(u.stored.flash))
    if (!Object.hasOwn(u.changes.flash, k)) delete flash[k]
  return sessionItem(key, {
    ...stored,
    data: applyChanges(stored.data, u.changes),
    flash,
    expires: u.expires ?? stored.expires,
    v: stored.v + 1,
    w,
  })
}

/**
 * `SET`/`REMOVE` of each changed key, and the condition that this write's token is new: the
 * update expression and the extra condition; undefined past DynamoDB's limits.
 */
function perKeyUpdate(
  x: Expression,
  u: ItemUpdate,
  stored: StoredSession,
  at: number,
): [update: string, condition: string] | undefined {
  const { set, remove, increment, flash } = u.changes
  const sets = Object.keys(set).map((k) => `${x.path('data', k)} = ${x.value(toAttribute(set[k]))}`)
  const removes = remove.map((k) => x.path('data', k))
  for (const k of Object.keys(increment)) {
    const path = x.path('data', k)
    sets.push(`${path} = if_not_exists(${path}, ${x.value(N(0))}) + ${x.value(N(increment[k]))}`)
  }
  for (const k of Object.keys(flash))
    sets.push(`${x.path('flash', k)} = ${x.value(toAttribute(flash[k]))}`)
  for (const k of Object.keys(stored.flash))
    if (!Object.hasOwn(flash, k)) removes.push(x.path('flash', k))
  for (const [t, time] of Object.entries(stored.w ?? {}))
    if (time < u.staleBefore) removes.push(x.path('w', t))
  if (u.expires !== undefined) sets.push(`${x.path('expires')} = ${x.value(N(u.expires))}`)
  // The save releases the lease in the same write.
  if (u.lease) removes.push(x.path('lease'), x.path('leaseOwner'))
  const token = tokenOf(u, false)
  let condition = ''
  if (token) {
    const path = x.path('w', token)
    sets.push(`${path} = ${x.value(N(at))}`)
    condition = `attribute_not_exists(${path})`
  }
  const update = `${sets.length ? `SET ${sets.join(', ')} ` : ''}${removes.length ? `REMOVE ${removes.join(', ')} ` : ''}ADD ${x.path('v')} ${x.value(N(1))}`
  return update.length < MAX_EXPRESSION && Object.keys(increment).length * 2 < MAX_OPERATORS
    ? [update, condition]
    : undefined
}

/**
 * Moves a session to a new key (a sign-in): the new item first, then the old one ended under the
 * version read. When another request wrote meanwhile, its stored changes are taken in and this
 * request's replayed on them; when the old session ended meanwhile, nothing is left behind.
 */
export async function moveSession(
  table: SessionTable,
  from: { key: string; stored: StoredSession },
  to: { key: string; changes: SessionChanges; expires: number },
  token: string,
  now: number,
): Promise<void> {
  let base = from.stored
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    await putItem(
      table,
      to.key,
      {
        data: applyChanges(base.data, to.changes),
        flash: to.changes.flash,
        expires: to.expires,
        // The creation time moves along, so absoluteMaxAge cannot be escaped by a sign-in.
        created: from.stored.created,
      },
      attempt > 0,
    )
    let ended: true | StoredSession
    try {
      ended = await endItem(table, from.key, token, now, base, true)
    } catch (error) {
      await deleteItem(table, to.key).catch(() => {})
      throw error
    }
    if (ended === true) return
    base = ended
  }
  await deleteItem(table, to.key).catch(() => {})
  throw contended()
}
