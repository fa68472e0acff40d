/**
 * @module The session item in DynamoDB: load, create, update, delete, and the optional lease.
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
import type { StoredSession } from './session.ts'

/** DynamoDB's item size limit, in bytes. */
export const MAX_ITEM_BYTES: number = 400 * 1024

/** A table and the client that reaches it. */
export interface SessionTable {
  send: Send
  name: string
}

/** A DynamoDB item as the JSON API carries it. */
export type Item = Record<string, AttributeValue>

const key = (id: string) => ({ id: { S: id } })

/** Reads a stored item into a session; throws INVALID_DATA when it is not one this library wrote. */
export function parseItem(item: Item): StoredSession {
  const { data, flash, expires, created } = item as Record<string, Partial<Record<string, unknown>>>
  if (!data?.M || !expires?.N || !created?.N || (flash && !flash.M)) {
    throw new DynamoSessionError(
      'INVALID_DATA',
      'the stored session is not a map of data with expires and created numbers',
    )
  }
  try {
    return {
      data: fromAttributeMap(data.M as Item),
      flash: flash ? fromAttributeMap(flash.M as Item) : {},
      expires: Number(expires.N),
      created: Number(created.N),
    }
  } catch (cause) {
    throw new DynamoSessionError('INVALID_DATA', 'the stored session data could not be read', {
      cause,
    })
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
  })
  return out.Item
}

/** Refuses an item over DynamoDB's limit before it is sent. */
export function checkSize(data: Item, flash: Item): void {
  // id (2 + 43), data and flash names plus their map overhead (4 + 3, 5 + 3), expires,
  // created (7 + up to 21 each) and the lease attributes (5 + 8, 10 + 43) at most.
  const size = 200 + mapSize(data) + mapSize(flash)
  if (size > MAX_ITEM_BYTES) {
    throw new DynamoSessionError(
      'TOO_LARGE',
      `the session is ${size} bytes, over DynamoDB's item limit of 400 KB (${MAX_ITEM_BYTES} bytes); nothing was written and the stored session is unchanged`,
    )
  }
}

/** Creates an item; the condition makes sure no existing item is overwritten. */
export async function putItem(
  table: SessionTable,
  id: string,
  session: StoredSession,
): Promise<void> {
  const data = toAttributeMap(session.data)
  const flash = toAttributeMap(session.flash)
  checkSize(data, flash)
  try {
    await table.send('PutItem', {
      TableName: table.name,
      Item: {
        ...key(id),
        data: { M: data },
        flash: { M: flash },
        expires: { N: String(session.expires) },
        created: { N: String(session.created) },
      },
      ConditionExpression: 'attribute_not_exists(id)',
    })
  } catch (error) {
    // Ids are 256 random bits: an item already there was written by an earlier attempt of this
    // very call whose reply was lost, so the write is done.
    if (!(error instanceof DynamoSessionError) || error.code !== 'CONDITION_FAILED') throw error
  }
}

/** The parts of an UpdateItem on an existing session. */
export interface ItemUpdate {
  set: Record<string, JsonValue>
  remove: string[]
  increment: Record<string, number>
  flashSet: Record<string, JsonValue>
  flashRemove: string[]
  expires: number
  /** Epoch seconds: the item must not have expired. */
  now: number
  /** The whole data after the update, for the size check. */
  size?: { data: Record<string, JsonValue>; flash: Record<string, JsonValue> }
  /** The lease token to check and release, with locking. */
  lease?: string
}

/**
 * Updates only the named keys of an existing session, so concurrent requests that change other
 * keys keep their changes; never creates an item, so a destroyed session stays destroyed.
 */
export async function updateItem(table: SessionTable, id: string, u: ItemUpdate): Promise<void> {
  if (u.size) checkSize(toAttributeMap(u.size.data), toAttributeMap(u.size.flash))
  const names: Record<string, string> = { '#e': 'expires' }
  const values: Record<string, AttributeValue> = {
    ':e': { N: String(u.expires) },
    ':now': { N: String(u.now) },
  }
  const sets = ['#e = :e']
  const removes: string[] = []
  let n = 0
  const name = (k: string) => {
    const alias = `#k${n++}`
    names[alias] = k
    return alias
  }
  for (const k of Object.keys(u.set)) {
    const v = `:v${n}`
    values[v] = toAttribute(u.set[k])
    sets.push(`#d.${name(k)} = ${v}`)
  }
  for (const k of Object.keys(u.increment)) {
    const v = `:v${n}`
    values[v] = { N: String(u.increment[k]) }
    values[':zero'] = { N: '0' }
    const alias = name(k)
    sets.push(`#d.${alias} = if_not_exists(#d.${alias}, :zero) + ${v}`)
  }
  for (const k of u.remove) removes.push(`#d.${name(k)}`)
  if (sets.length > 1 || removes.length) names['#d'] = 'data'
  if (Object.keys(u.flashSet).length || u.flashRemove.length) names['#f'] = 'flash'
  for (const k of Object.keys(u.flashSet)) {
    const v = `:v${n}`
    values[v] = toAttribute(u.flashSet[k])
    sets.push(`#f.${name(k)} = ${v}`)
  }
  for (const k of u.flashRemove) if (!(k in u.flashSet)) removes.push(`#f.${name(k)}`)
  let condition = 'attribute_exists(id) AND #e > :now'
  if (u.lease) {
    names['#l'] = 'lease'
    names['#o'] = 'leaseOwner'
    values[':o'] = { S: u.lease }
    removes.push('#l', '#o')
    condition = '#o = :o AND #e > :now'
  }
  await table.send('UpdateItem', {
    TableName: table.name,
    Key: key(id),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  })
}

/** Deletes an item, whatever state it is in. */
export async function deleteItem(table: SessionTable, id: string): Promise<void> {
  await table.send('DeleteItem', { TableName: table.name, Key: key(id) })
}

/**
 * Takes the lease on an existing item and returns the item, in one conditional UpdateItem.
 * Returns 'missing' when there is no item and 'held' when another request holds a live lease.
 */
export async function takeLease(
  table: SessionTable,
  id: string,
  token: string,
  leaseMs: number,
  consistentRead: boolean,
): Promise<Item | 'missing' | 'held'> {
  const now = Date.now()
  try {
    const out = await table.send('UpdateItem', {
      TableName: table.name,
      Key: key(id),
      UpdateExpression: 'SET #l = :until, #o = :o',
      // Our own token: an earlier attempt took the lease and its reply was lost.
      ConditionExpression:
        'attribute_exists(id) AND (attribute_not_exists(#l) OR #l < :now OR #o = :o)',
      ExpressionAttributeNames: { '#l': 'lease', '#o': 'leaseOwner' },
      ExpressionAttributeValues: {
        ':until': { N: String(now + leaseMs) },
        ':now': { N: String(now) },
        ':o': { S: token },
      },
      ReturnValues: 'ALL_NEW',
    })
    return out.Attributes
  } catch (error) {
    if (!(error instanceof DynamoSessionError) || error.code !== 'CONDITION_FAILED') throw error
  }
  return (await getItem(table, id, consistentRead)) ? 'held' : 'missing'
}

/** Gives the lease back without changing the session; a lease already lost is no error. */
export async function releaseLease(table: SessionTable, id: string, token: string): Promise<void> {
  try {
    await table.send('UpdateItem', {
      TableName: table.name,
      Key: key(id),
      UpdateExpression: 'REMOVE #l, #o',
      ConditionExpression: '#o = :o',
      ExpressionAttributeNames: { '#l': 'lease', '#o': 'leaseOwner' },
      ExpressionAttributeValues: { ':o': { S: token } },
    })
  } catch (error) {
    if (!(error instanceof DynamoSessionError) || error.code !== 'CONDITION_FAILED') throw error
  }
}
