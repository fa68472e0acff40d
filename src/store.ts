/**
 * @module The session item in DynamoDB: load, create, update, end (a tombstone), and the
 * optional lease. Every write bumps the version `v`; writes that change data carry a write token
 * in `w`, so a retry of a write DynamoDB already applied is recognised instead of applied twice.
 */
import type { Send } from './client.ts'
import { DynamoSessionError } from './errors.ts'
import {
  type AttributeValue,
  fromAttributeMap,
  type JsonValue,
  mapSize,
  toAttribute,
  toAttributeMap,
} from './marshall.ts'
import { applyChanges, type SessionChanges, type StoredSession } from './session.ts'

/** DynamoDB's item size limit, in bytes. */
export const MAX_ITEM_BYTES: number = 400 * 1024

/** How long a tombstone tells late requests of an ended session apart from unknown ones. */
export const TOMBSTONE_SECONDS = 3600

/** A table and the client that reaches it. */
export interface SessionTable {
  send: Send
  name: string
}

/** A DynamoDB item as the JSON API carries it. */
export type Item = Record<string, AttributeValue>

/** An item as DynamoDB returned it, read loosely. */
type Raw = Record<string, { M?: Item; S?: string; N?: string }>

const key = (id: string) => ({ id: { S: id } })
const N = (n: number) => ({ N: String(n) })

/** The attribute names expressions use, by their fixed aliases. */
const NAMES: Record<string, string> = {
  '#D': 'data',
  '#E': 'expires',
  '#F': 'flash',
  '#L': 'lease',
  '#O': 'leaseOwner',
  '#V': 'v',
  '#W': 'w',
}

/**
 * Reads an item: a session, `'ended'` for a tombstone, or undefined when there is no item or it
 * has expired. Throws INVALID_DATA when it is not an item this library wrote.
 */
export function parseItem(
  item: Record<string, unknown> | undefined,
  now: number,
): StoredSession | 'ended' | undefined {
  const { data, flash, expires, created, v, w, end } = (item ?? {}) as Raw
  // Expired items are no session even before TTL deletes them (it can lag by days).
  if (!(Number(expires?.N) > now)) return undefined
  if (end) return 'ended'
  try {
    return {
      data: fromAttributeMap(data?.M as Item),
      flash: flash ? fromAttributeMap(flash.M as Item) : {},
      expires: Number(expires?.N),
      created: Number((created as { N: string }).N),
      v: v ? Number(v.N) : 0,
      w: w && (fromAttributeMap(w.M as Item) as Record<string, number>),
    }
  } catch (cause) {
    throw new DynamoSessionError('INVALID_DATA', 'stored item is not a session', { cause })
  }
}

/** Loads the item of a stored key, or undefined. */
export async function getItem(
  table: SessionTable,
  id: string,
  consistentRead: boolean,
): Promise<Item | undefined> {
  const out = await table.send('GetItem', {
    TableName: table.name,
    Key: key(id),
    ConsistentRead: consistentRead,
    ReturnConsumedCapacity: 'TOTAL',
  })
  return out.Item
}

/**
 * One write. Returns its answer, or the item as it is now (`{}` for none) when the condition
 * failed; throws anything else.
 */
async function write(
  table: SessionTable,
  op: string,
  input: Record<string, unknown>,
): Promise<[answer?: { Attributes?: Item }, current?: Raw]> {
  const text = `${input.UpdateExpression ?? ''} ${input.ConditionExpression ?? ''}`
  const names = {
    ...Object.fromEntries(Object.entries(NAMES).filter(([alias]) => text.includes(alias))),
    ...(input.ExpressionAttributeNames as object),
  }
  try {
    return [
      await table.send(op, {
        TableName: table.name,
        ...input,
        ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
        ReturnConsumedCapacity: 'TOTAL',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    ]
  } catch (error) {
    if (!(error instanceof DynamoSessionError) || error.code !== 'CONDITION_FAILED') throw error
    return [undefined, (error.item ?? {}) as Raw]
  }
}

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

/** The whole item of a session; refused over DynamoDB's limit before it is sent. */
function sessionItem(
  id: string,
  s: Omit<StoredSession, 'w'> & { w: Record<string, number> },
): Record<string, unknown> {
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
    ...key(id),
    data: { M: data },
    flash: { M: flash },
    expires: N(s.expires),
    created: N(s.created),
    v: N(s.v),
    w: { M: w },
  }
}

/** A new item. */
export interface NewItem {
  data: Record<string, JsonValue>
  flash: Record<string, JsonValue>
  expires: number
  created: number
}

/**
 * Creates an item. `ours` (a key nobody else knows yet, rewritten on a retry of `regenerate()`)
 * skips the condition; otherwise an existing item is never overwritten. Ids are 256 random bits:
 * an item already there was written by an earlier attempt whose reply was lost.
 */
export async function putItem(
  table: SessionTable,
  id: string,
  item: NewItem,
  ours = false,
): Promise<void> {
  await write(table, 'PutItem', {
    Item: sessionItem(id, { ...item, v: 1, w: {} }),
    ConditionExpression: ours ? undefined : 'attribute_not_exists(id)',
  })
}

/**
 * Ends a session: a tombstone replaces the item, so late requests of the old id can tell "ended
 * by another request" from "expired". With `exact` (regenerate) only if nothing was written
 * since `stored` was read; otherwise (destroy) whenever the session is still live.
 * @returns true, or the session as it is now when another request wrote it meanwhile
 * @throws SESSION_GONE when it was ended or expired meanwhile
 */
export async function endItem(
  table: SessionTable,
  id: string,
  token: string,
  now: number,
  stored: StoredSession,
  exact: boolean,
): Promise<true | StoredSession> {
  const [, current] = await write(table, 'PutItem', {
    Item: {
      ...key(id),
      end: { S: '1' },
      expires: N(now + TOMBSTONE_SECONDS),
      v: N(stored.v + 1),
      w: { M: { [token]: N(now) } },
    },
    ConditionExpression: `${exact ? versionIs(stored) : ''}attribute_exists(#D) AND #E > :now`,
    ExpressionAttributeValues: {
      ':now': N(now),
      ...(exact && stored.v ? { ':v': N(stored.v) } : {}),
    },
  })
  // No conflict, or an earlier attempt of this very write was applied and its reply lost.
  if (!current || current.w?.M?.[token]) return true
  const session = parseItem(current, now)
  if (!exact || !session || session === 'ended') throw gone()
  return session
}

/** The condition that nothing was written since `stored` was read. */
const versionIs = (stored: StoredSession) =>
  stored.v ? '#V = :v AND ' : 'attribute_not_exists(#V) AND '

/** Deletes an item, whatever state it is in. */
export async function deleteItem(table: SessionTable, id: string): Promise<void> {
  await table.send('DeleteItem', { TableName: table.name, Key: key(id) })
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
  /** This write's token (for writes that change data), recognised on a retry where needed. */
  token?: string
  /** Write tokens older than this epoch second are removed. */
  staleBefore: number
  /** The lease token to check and release, with locking. */
  lease?: string
}

/** DynamoDB refuses longer expressions (4 KB) and more than 300 operators and functions. */
const MAX_EXPRESSION = 4000
const MAX_OPERATORS = 290

/**
 * Updates only the changed keys of a session (and removes the flash values this request read),
 * so concurrent requests that change other keys keep their changes; never creates an item, so
 * an ended session stays ended. Past DynamoDB's expression limits the whole item is written
 * under the version read, re-reading and replaying this request's changes when another request
 * wrote meanwhile.
 */
export async function updateItem(table: SessionTable, id: string, u: ItemUpdate): Promise<void> {
  let stored = u.stored
  const values: Record<string, AttributeValue> = { ':now': N(u.now) }
  let condition = 'attribute_exists(#D) AND #E > :now'
  if (u.lease) {
    // Upper case: the per-key value aliases (base 36) are lower case and would overwrite it.
    values[':O'] = { S: u.lease }
    condition += ' AND #O = :O'
  }
  // A token is dated when it is written, not when the request began (handlers can be slow), so
  // later requests keep it for the whole window in which this write may be retried.
  const at = Math.max(u.now, Math.floor(Date.now() / 1000))
  for (let attempt = 0; ; attempt++) {
    const w = Object.fromEntries(
      Object.entries(stored.w ?? {}).filter(([, t]) => t >= u.staleBefore),
    )
    if (u.token) w[u.token] = at
    // Only the flash values this request read are consumed: on a replay, those another request
    // wrote meanwhile stay for the next one.
    const flash = { ...stored.flash, ...u.changes.flash }
    for (const k of Object.keys(u.stored.flash))
      if (!Object.hasOwn(u.changes.flash, k)) delete flash[k]
    const item = sessionItem(id, {
      ...stored,
      data: applyChanges(stored.data, u.changes),
      flash,
      expires: u.expires ?? stored.expires,
      v: stored.v + 1,
      w,
    })
    // A retry of a blind SET/REMOVE writes the same values again; increments, lease-checked and
    // whole-item writes would not, so only they carry the token a retry recognises.
    const sent = Object.keys(u.changes.increment).length || u.lease ? u.token : undefined
    const x = perKey({ ...u, token: sent, now: at }, stored)
    const token = x ? sent : u.token
    const [, current] = x
      ? await write(table, 'UpdateItem', {
          Key: key(id),
          UpdateExpression: x[0],
          ConditionExpression: condition + x[1],
          ExpressionAttributeNames: x[2],
          ExpressionAttributeValues: { ...values, ...x[3] },
        })
      : await write(table, 'PutItem', {
          Item: item,
          ConditionExpression: versionIs(stored) + condition,
          ExpressionAttributeValues: stored.v ? { ...values, ':v': N(stored.v) } : values,
        })
    if (!current || (token && current.w?.M?.[token])) return
    const session = parseItem(current, u.now)
    if (!session || session === 'ended') throw gone()
    if (u.lease && current.leaseOwner?.S !== u.lease) {
      throw new DynamoSessionError(
        'LOCK_LOST',
        'lease expired (locking.leaseMs) and was taken by another request; nothing saved',
      )
    }
    // A 0.1 item that another request gave a `w` meanwhile: again, adding to that map.
    if (x && (stored.w || !session.w)) throw gone()
    if (attempt > 2) throw contended()
    stored = x ? { ...stored, w: session.w } : session
  }
}

/**
 * `SET`/`REMOVE` of each changed key, and the condition that this write's token is new: the
 * update expression, the extra condition, names and values; undefined past DynamoDB's limits.
 */
function perKey(
  u: ItemUpdate,
  stored: StoredSession,
): [string, string, Record<string, string>, Record<string, AttributeValue>] | undefined {
  const names: Record<string, string> = {}
  const values: Record<string, AttributeValue> = { ':one': N(1) }
  let n = 0
  const name = (path: string, k: string) => {
    const alias = `#${(n++).toString(36)}`
    names[alias] = k
    return `${path}.${alias}`
  }
  const value = (v: AttributeValue) => {
    const alias = `:${(n++).toString(36)}`
    values[alias] = v
    return alias
  }
  const { set, remove, increment, flash } = u.changes
  const sets = Object.keys(set).map((k) => `${name('#D', k)} = ${value(toAttribute(set[k]))}`)
  const removes = remove.map((k) => name('#D', k))
  for (const k of Object.keys(increment)) {
    const path = name('#D', k)
    sets.push(`${path} = if_not_exists(${path}, ${value(N(0))}) + ${value(N(increment[k]))}`)
  }
  for (const k of Object.keys(flash))
    sets.push(`${name('#F', k)} = ${value(toAttribute(flash[k]))}`)
  for (const k of Object.keys(stored.flash))
    if (!Object.hasOwn(flash, k)) removes.push(name('#F', k))
  for (const [t, at] of Object.entries(stored.w ?? {}))
    if (at < u.staleBefore) removes.push(name('#W', t))
  if (u.expires !== undefined) sets.push(`#E = ${value(N(u.expires))}`)
  // The save releases the lease in the same write.
  if (u.lease) removes.push('#L', '#O')
  let condition = ''
  if (u.token) {
    // Items written before write tokens existed have no `w` map to add to.
    const path = stored.w ? name('#W', u.token) : '#W'
    sets.push(`${path} = ${value(stored.w ? N(u.now) : { M: { [u.token]: N(u.now) } })}`)
    condition = ` AND attribute_not_exists(${path})`
  }
  const update = `${sets.length ? `SET ${sets.join(', ')} ` : ''}${removes.length ? `REMOVE ${removes.join(', ')} ` : ''}ADD #V :one`
  return update.length < MAX_EXPRESSION && Object.keys(increment).length * 2 < MAX_OPERATORS
    ? [update, condition, names, values]
    : undefined
}

/**
 * Takes the lease on a live item and returns the item, in one conditional UpdateItem. Returns
 * 'held' when another request holds a live lease, and the item as it is (expired, ended, `{}`
 * for none) when it is not a live session.
 */
export async function takeLease(
  table: SessionTable,
  id: string,
  token: string,
  leaseMs: number,
): Promise<Record<string, unknown> | 'held'> {
  const now = Date.now()
  const [answer, current] = await write(table, 'UpdateItem', {
    Key: key(id),
    UpdateExpression: 'SET #L = :until, #O = :o',
    // Our own token: an earlier attempt took the lease and its reply was lost.
    ConditionExpression:
      'attribute_exists(#D) AND #E > :s AND (attribute_not_exists(#L) OR #L < :now OR #O = :o)',
    ExpressionAttributeValues: {
      ':until': N(now + leaseMs),
      ':now': N(now),
      ':s': N(Math.floor(now / 1000)),
      ':o': { S: token },
    },
    ReturnValues: 'ALL_NEW',
  })
  if (!current) return answer?.Attributes as Item
  // The condition failed on a live item: another request holds the lease.
  return current.data && !current.end && Number(current.expires?.N) > now / 1000 ? 'held' : current
}

/** Gives the lease back without changing the session; a lease already lost is no error. */
export async function releaseLease(table: SessionTable, id: string, token: string): Promise<void> {
  await write(table, 'UpdateItem', {
    Key: key(id),
    UpdateExpression: 'REMOVE #L, #O',
    ConditionExpression: '#O = :o',
    ExpressionAttributeValues: { ':o': { S: token } },
  })
}
