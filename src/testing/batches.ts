/**
 * @module The operations of several writes: TransactWriteItems (all or nothing, with
 * cancellation reasons) and BatchWriteItem.
 */
import type { Database } from './database.ts'
import { DDB, DynamoError, invalid } from './errors.ts'
import { readUnits, writeUnits } from './size.ts'
import { clone, type Input } from './values.ts'
import { commit, onFailure, prepare, type Write } from './writes.ts'

export function TransactWriteItems(db: Database, input: Input): unknown {
  const list = input.TransactItems
  if (!Array.isArray(list) || list.length < 1) {
    throw invalid(
      `Value ${JSON.stringify(list ?? null)} at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1`,
    )
  }
  if (list.length > 100) {
    throw invalid(
      "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100",
    )
  }
  const prepared = list.map((entry: Input) => {
    const kinds = (['Put', 'Update', 'Delete', 'ConditionCheck'] as const).filter((k) => entry?.[k])
    if (kinds.length !== 1) {
      throw invalid('TransactItems can only contain one of Check, Put, Update or Delete')
    }
    const kind = kinds[0]
    if (kind === 'ConditionCheck' && !entry[kind].ConditionExpression) {
      throw invalid('The ConditionExpression of a ConditionCheck must not be empty')
    }
    return { kind, w: prepare(db, kind, entry[kind]), withOld: onFailure(entry[kind]) }
  })
  const ids = new Set(prepared.map((p) => `${p.w.table.name}\u0000${p.w.id}`))
  if (ids.size !== prepared.length) {
    throw invalid('Transaction request cannot include multiple operations on one item')
  }
  const reasons = prepared.map((p) =>
    p.w.passes()
      ? { Code: 'None' }
      : {
          ...(p.withOld && p.w.old ? { Item: clone(p.w.old) } : {}),
          Code: 'ConditionalCheckFailed',
          Message: 'The conditional request failed',
        },
  )
  if (reasons.some((r) => r.Code !== 'None')) {
    throw new DynamoError(
      `${DDB}TransactionCanceledException`,
      `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      { CancellationReasons: reasons },
    )
  }
  const writes = prepared.map((p) => ({ ...p, done: p.w.compute() }))
  const units = new Map<string, { read: number; write: number }>()
  for (const { kind, w, done } of writes) {
    const u = units.get(w.table.name) ?? { read: 0, write: 0 }
    if (kind === 'ConditionCheck') u.read += 2 * readUnits(w.old, true)
    else u.write += 2 * writeUnits(w.old, done.next)
    units.set(w.table.name, u)
    if (kind !== 'ConditionCheck') commit(done)
  }
  return input.ReturnConsumedCapacity === 'TOTAL' || input.ReturnConsumedCapacity === 'INDEXES'
    ? {
        ConsumedCapacity: [...units].map(([TableName, u]) => ({
          TableName,
          CapacityUnits: u.read + u.write,
          ...(u.read ? { ReadCapacityUnits: u.read } : {}),
          ...(u.write ? { WriteCapacityUnits: u.write } : {}),
        })),
      }
    : {}
}
export function BatchWriteItem(db: Database, input: Input): unknown {
  const requests = input.RequestItems
  const names = Object.keys(requests ?? {})
  if (names.length === 0) throw invalid('BatchWriteItem cannot have a null or no requests set')
  const total = names.reduce((n, k) => n + (requests[k]?.length ?? 0), 0)
  if (total > 25) {
    throw invalid(
      "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length less than or equal to 25",
    )
  }
  const writes: { w: Write; units: number }[] = []
  for (const name of names) {
    const seen = new Set<string>()
    for (const r of requests[name]) {
      const put = r?.PutRequest
      const del = r?.DeleteRequest
      if (!!put === !!del) {
        throw invalid(
          'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
        )
      }
      const w = put
        ? prepare(db, 'Put', { TableName: name, Item: put.Item })
        : prepare(db, 'Delete', { TableName: name, Key: del.Key })
      if (seen.has(w.id)) throw invalid('Provided list of item keys contains duplicates')
      seen.add(w.id)
      const done = w.compute()
      // DynamoDB Local charges 2 units for a batch delete of a missing item.
      const units = !put && !w.old ? 2 : writeUnits(w.old, done.next)
      writes.push({ w: done, units })
    }
  }
  const units = new Map<string, number>()
  for (const { w, units: n } of writes) {
    commit(w)
    units.set(w.table.name, (units.get(w.table.name) ?? 0) + n)
  }
  return {
    UnprocessedItems: {},
    ...(input.ReturnConsumedCapacity === 'TOTAL' || input.ReturnConsumedCapacity === 'INDEXES'
      ? {
          ConsumedCapacity: [...units].map(([TableName, CapacityUnits]) => ({
            TableName,
            CapacityUnits,
          })),
        }
      : {}),
  }
}
