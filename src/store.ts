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

const key = (id: string) => ({ id: { S: id } })
const N = (n: number) => ({ N: String(n) })

/**
 * Reads an item: a session, `'ended'` for a tombstone, or undefined when there is no item or it
 * has expired. Throws INVALID_DATA when it is not an item this library wrote.
 */
export function parseItem(
  item: Record<string, unknown> | undefined,
  now: number,
): StoredSession | 'ended' | undefined {
  const { data, flash, expires, created, v, w, end } = (item ?? {}) as Record<
    string,
    Partial<Record<string, unknown>> | undefined
  >
  // Expired items are no session even before TTL deletes them (it can lag by days).
  if (!item || !(Number(expires?.N) > now)) return undefined
  if (end) return 'ended'
  try {
    return {
      data: fromAttributeMap(data?.M as Item),
      flash: flash ? fromAttributeMap(flash.M as Item) : {},
      expires: Number(expires?.N),
      created: Number((created as { N: string }).N),
      v: v ? Number(v.N) : 0,
      w: w ? (fromAttributeMap(w.M as Item) as Record<string, number>) : undefined,
    }
  } catch (cause) {
    throw new DynamoSessionError(
      'INVALID_DATA',
      'the stored session is not a map of data with expires and created numbers',
      { cause },
    )
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

/** A conditional write; a failed condition comes back with the item as it is now. */
function write(table: SessionTable, op: string, input: Record<string, unknown>): Promise<unknown> {
  return table.send(op, {
    TableName: table.name,
    ...input,
    ReturnConsumedCapacity: 'TOTAL',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  })
}

/** The item as it is now when `error` is a failed condition; rethrows anything else. */
function conflict(error: unknown): Record<string, { M?: Item; S?: string; N?: string }> {
  if (!(error instanceof DynamoSessionError) || error.code !== 'CONDITION_FAILED') throw error
  return (error.item ?? {}) as Record<string, { M?: Item; S?: string; N?: string }>
}

/** A change refused because the session ended (409). */
export const gone = (cause?: unknown): DynamoSessionError =>
  new DynamoSessionError(
    'SESSION_GONE',
    'the session ended in another request (logout or login) or expired while this request changed it; nothing was saved',
    { cause },
  )

/** Refuses an item over DynamoDB's limit before it is sent. */
export function checkSize(data: Item, flash: Item, extra = 0): void {
  // id (2 + 43), data and flash names plus their map overhead (4 + 3, 5 + 3), expires,
  // created, v (7 + up to 21 each) and the lease attributes (5 + 8, 10 + 43) at most.
  const size = 220 + extra + mapSize(data) + mapSize(flash)
  if (size > MAX_ITEM_BYTES) {
    throw new DynamoSessionError(
      'TOO_LARGE',
      `the session is ${size} bytes, over DynamoDB's item limit of 400 KB (${MAX_ITEM_BYTES} bytes); nothing was written and the stored session is unchanged`,
    )
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
 * skips the condition; otherwise an existing item is never overwritten.
 */
export async function putItem(
  table: SessionTable,
  id: string,
  item: NewItem,
  ours = false,
): Promise<void> {
  const data = toAttributeMap(item.data)
  const flash = toAttributeMap(item.flash)
  checkSize(data, flash)
  try {
    await write(table, 'PutItem', {
      Item: {
        ...key(id),
        data: { M: data },
        flash: { M: flash },
        expires: N(item.expires),
        created: N(item.created),
        v: N(1),
        w: { M: {} },
      },
      ...(ours ? {} : { ConditionExpression: 'attribute_not_exists(id)' }),
    })
  } catch (error) {
    // Ids are 256 random bits: an item already there was written by an earlier attempt of this
    // very call whose reply was lost, so the write is done.
    conflict(error)
  }
}

/**
 * Ends a session: a tombstone replaces the item, so late requests of the old id can tell "ended
 * by another request" from "expired". With `exact` (regenerate) only if nothing was written
 * since `version` was read; otherwise (destroy) whenever the session is still live.
 * @returns true, or the session as it is now when another request wrote it meanwhile
 * @throws SESSION_GONE when it was ended or expired meanwhile
 */
export async function endItem(
  table: SessionTable,
  id: string,
  token: string,
  now: number,
  version: number,
  exact: boolean,
): Promise<true | StoredSession> {
  try {
    await write(table, 'PutItem', {
      Item: {
        ...key(id),
        end: { S: '1' },
        expires: N(now + TOMBSTONE_SECONDS),
        v: N(version + 1),
        w: { M: { [token]: N(now) } },
      },
      ConditionExpression: `${exact ? (version ? '#V = :v AND ' : 'attribute_not_exists(#V) AND ') : ''}attribute_exists(#D) AND #E > :now`,
      ExpressionAttributeNames: { '#D': 'data', '#E': 'expires', ...(exact ? { '#V': 'v' } : {}) },
      ExpressionAttributeValues: {
        ':now': N(now),
        ...(exact && version ? { ':v': N(version) } : {}),
      },
    })
    return true
  } catch (error) {
    const item = conflict(error)
    // An earlier attempt of this very write was applied, and its reply lost.
    if (item.w?.M?.[token]) return true
    const current = parseItem(item, now)
    if (!exact || !current || current === 'ended') throw gone(error)
    return current
  }
}

/** Deletes an item, whatever state it is in. */
export async function deleteItem(table: SessionTable, id: string): Promise<void> {
  await table.send('DeleteItem', { TableName: table.name, Key: key(id) })
}

/** The parts of an UpdateItem on an existing session. */
export interface ItemUpdate {
  changes: Pick<SessionChanges, 'set' | 'remove' | 'increment' | 'flash'>
  /** The session as this request loaded it. */
  stored: StoredSession
  /** Flash keys read by this request, removed by the write. */
  flashRemove: string[]
  /** The new expiry, or undefined to leave it. */
  expires?: number
  /** Epoch seconds: the item must not have expired. */
  now: number
  /** This write's token (for writes that change data), recognised on a retry. */
  token?: string
  /** Write tokens older than this epoch second are removed. */
  staleBefore: number
  /** The lease token to check and release, with locking. */
  lease?: string
}

/** DynamoDB refuses longer expressions (4 KB) and more than 300 operators and functions. */
const MAX_EXPRESSION = 4000
const MAX_OPERATORS = 290

/** Builds one UpdateItem's expressions: fixed names are upper case, generated ones lower. */
function expression() {
  const names: Record<string, string> = { '#E': 'expires', '#V': 'v' }
  const values: Record<string, AttributeValue> = { ':one': N(1) }
  let n = 0
  return {
    names,
    values,
    name(k: string): string {
      const alias = `#${(n++).toString(36)}`
      names[alias] = k
      return alias
    },
    value(v: AttributeValue): string {
      const alias = `:${(n++).toString(36)}`
      values[alias] = v
      return alias
    },
  }
}

/**
 * Updates only the named keys of an existing session, so concurrent requests that change other
 * keys keep their changes; never creates an item, so an ended session stays ended. Past
 * DynamoDB's expression limits, writes the whole maps under the version read, re-reading and
 * replaying this request's changes when another request wrote meanwhile.
 */
export async function updateItem(table: SessionTable, id: string, u: ItemUpdate): Promise<void> {
  let stored = u.stored
  for (let attempt = 0; ; attempt++) {
    const data = applyChanges(stored.data, u.changes)
    const flash = { ...stored.flash, ...u.changes.flash }
    for (const k of u.flashRemove) if (!Object.hasOwn(u.changes.flash, k)) delete flash[k]
    const tokens = Object.entries(stored.w ?? {}).filter(([, t]) => t >= u.staleBefore)
    if (u.token) tokens.push([u.token, u.now])
    const whole = Object.fromEntries(tokens)
    checkSize(toAttributeMap(data), toAttributeMap(flash), tokens.length * 30)
    const x = perKey(u, stored) ?? wholeMaps(u, stored, data, flash, whole)
    if (u.expires !== undefined) x.sets.push(`#E = ${x.value(N(u.expires))}`)
    let condition = `#E > ${x.value(N(u.now))}`
    if (u.lease) {
      x.names['#O'] = 'leaseOwner'
      x.names['#L'] = 'lease'
      x.removes.push('#L', '#O')
      condition += ` AND #O = ${x.value({ S: u.lease })}`
    }
    try {
      await write(table, 'UpdateItem', {
        Key: key(id),
        UpdateExpression: `${x.sets.length ? `SET ${x.sets.join(', ')} ` : ''}${x.removes.length ? `REMOVE ${x.removes.join(', ')} ` : ''}ADD #V :one`,
        ConditionExpression: `${x.condition} AND ${condition}`,
        ExpressionAttributeNames: x.names,
        ExpressionAttributeValues: x.values,
      })
      return
    } catch (error) {
      const item = conflict(error)
      if (u.token && item.w?.M?.[u.token]) return
      const current = parseItem(item, u.now)
      if (!current || current === 'ended') throw gone(error)
      if (u.lease && item.leaseOwner?.S !== u.lease) {
        throw new DynamoSessionError(
          'LOCK_LOST',
          `the session's lease expired (locking.leaseMs) and another request took it before this one saved`,
          { cause: error },
        )
      }
      if (x.perKey) throw gone(error)
      if (attempt >= 3) {
        throw new DynamoSessionError(
          'CONTENDED',
          'the session kept changing while this request wrote it whole; nothing was saved',
          { cause: error },
        )
      }
      stored = current
    }
  }
}

type Built = ReturnType<typeof expression> & {
  sets: string[]
  removes: string[]
  condition: string
  perKey: boolean
}

/** `SET`/`REMOVE` of each changed key, or undefined past DynamoDB's expression limits. */
function perKey(u: ItemUpdate, stored: StoredSession): Built | undefined {
  const x = expression()
  const { set, remove, increment, flash } = u.changes
  const sets: string[] = []
  const removes: string[] = []
  let operators = 0
  const d = (k: string) => `#D.${x.name(k)}`
  const f = (k: string) => `#F.${x.name(k)}`
  for (const k of Object.keys(set)) sets.push(`${d(k)} = ${x.value(toAttribute(set[k]))}`)
  for (const k of Object.keys(increment)) {
    const path = d(k)
    sets.push(`${path} = if_not_exists(${path}, :zero) + ${x.value(N(increment[k]))}`)
    x.values[':zero'] = N(0)
    operators += 2
  }
  for (const k of remove) removes.push(d(k))
  for (const k of Object.keys(flash)) sets.push(`${f(k)} = ${x.value(toAttribute(flash[k]))}`)
  for (const k of u.flashRemove) if (!Object.hasOwn(flash, k)) removes.push(f(k))
  let condition = 'attribute_exists(#D)'
  x.names['#D'] = 'data'
  if (Object.keys(flash).length || u.flashRemove.length) x.names['#F'] = 'flash'
  for (const t of Object.keys(stored.w ?? {})) {
    if ((stored.w as Record<string, number>)[t] < u.staleBefore) removes.push(`#W.${x.name(t)}`)
  }
  if (u.token || removes.some((r) => r.startsWith('#W'))) x.names['#W'] = 'w'
  if (u.token) {
    // Items written before write tokens existed have no `w` map to add to.
    const t = x.name(u.token)
    sets.push(
      stored.w
        ? `#W.${t} = ${x.value(N(u.now))}`
        : `#W = ${x.value({ M: { [u.token]: N(u.now) } })}`,
    )
    if (stored.w) condition += ` AND attribute_not_exists(#W.${t})`
  }
  const built = { ...x, sets, removes, condition, perKey: true }
  const size = sets.join().length + removes.join().length
  return size < MAX_EXPRESSION && operators < MAX_OPERATORS ? built : undefined
}

/** The whole `data`, `flash` and `w` maps, under the version this request read. */
function wholeMaps(
  u: ItemUpdate,
  stored: StoredSession,
  data: Record<string, JsonValue>,
  flash: Record<string, JsonValue>,
  tokens: Record<string, number>,
): Built {
  const x = expression()
  x.names['#D'] = 'data'
  x.names['#F'] = 'flash'
  x.names['#W'] = 'w'
  const sets = [
    `#D = ${x.value({ M: toAttributeMap(data) })}`,
    `#F = ${x.value({ M: toAttributeMap(flash) })}`,
    `#W = ${x.value({ M: toAttributeMap(tokens) })}`,
  ]
  const condition = stored.v ? `#V = ${x.value(N(stored.v))}` : 'attribute_not_exists(#V)'
  return { ...x, sets, removes: [], condition, perKey: false }
}

/**
 * Takes the lease on a live item and returns the item, in one conditional UpdateItem. Returns
 * 'held' when another request holds a live lease, and the item as it is (expired, ended) or
 * undefined when it is not a live session.
 */
export async function takeLease(
  table: SessionTable,
  id: string,
  token: string,
  leaseMs: number,
): Promise<Record<string, unknown> | undefined | 'held'> {
  const now = Date.now()
  try {
    const out = await table.send('UpdateItem', {
      TableName: table.name,
      Key: key(id),
      UpdateExpression: 'SET #L = :until, #O = :o',
      // Our own token: an earlier attempt took the lease and its reply was lost.
      ConditionExpression:
        'attribute_exists(#D) AND #E > :s AND (attribute_not_exists(#L) OR #L < :now OR #O = :o)',
      ExpressionAttributeNames: {
        '#L': 'lease',
        '#O': 'leaseOwner',
        '#D': 'data',
        '#E': 'expires',
      },
      ExpressionAttributeValues: {
        ':until': N(now + leaseMs),
        ':now': N(now),
        ':s': N(Math.floor(now / 1000)),
        ':o': { S: token },
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ReturnConsumedCapacity: 'TOTAL',
    })
    return out.Attributes
  } catch (error) {
    const item = conflict(error)
    // The condition failed on a live item: another request holds the lease.
    return item.data && !item.end && Number(item.expires?.N) > now / 1000 ? 'held' : item
  }
}

/** Gives the lease back without changing the session; a lease already lost is no error. */
export async function releaseLease(table: SessionTable, id: string, token: string): Promise<void> {
  try {
    await table.send('UpdateItem', {
      TableName: table.name,
      Key: key(id),
      UpdateExpression: 'REMOVE #L, #O',
      ConditionExpression: '#O = :o',
      ExpressionAttributeNames: { '#L': 'lease', '#O': 'leaseOwner' },
      ExpressionAttributeValues: { ':o': { S: token } },
    })
  } catch (error) {
    conflict(error)
  }
}
