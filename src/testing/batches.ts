/**
 * @module The operations of several writes: TransactWriteItems (all or nothing, with
 * cancellation reasons) and BatchWriteItem.
 */
import {
  capacityOf,
  readUnits,
  transactionCapacity,
  type Units,
  wantsCapacity,
} from './capacity.ts'
import type { Database } from './database.ts'
import { DDB, DynamoError, invalid } from './errors.ts'
import { clone, type Input } from './values.ts'
import { commit, onFailure, type Prepared, prepare, type Write, writeCapacity } from './writes.ts'

const KINDS = ['Put', 'Update', 'Delete', 'ConditionCheck'] as const

/** Checks the shape of TransactItems: 1 to 100 entries, each of one kind. */
function checkTransactItems(list: unknown): Input[] {
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
  list.forEach((entry: Input, i) => {
    if (KINDS.filter((k) => entry?.[k]).length !== 1) {
      throw invalid('TransactItems can only contain one of Check, Put, Update or Delete')
    }
    if (entry.ConditionCheck && entry.ConditionCheck.ConditionExpression == null) {
      throw invalid(
        `Value null at 'transactItems.${i + 1}.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null`,
      )
    }
  })
  return list
}

interface Entry {
  kind: (typeof KINDS)[number]
  w: Prepared
  withOld: boolean
  done?: Write
}

/** Why an entry cancels the transaction, or None; computes the entries that go ahead. */
function reasonOf(p: Entry): Record<string, unknown> {
  const validation = (e: DynamoError) => ({ Code: 'ValidationError', Message: e.message })
  if (p.w.failure) return validation(p.w.failure)
  if (!p.w.passes()) {
    return {
      ...(p.withOld && p.w.old ? { Item: clone(p.w.old) } : {}),
      Code: 'ConditionalCheckFailed',
      Message: 'The conditional request failed',
    }
  }
  try {
    p.done = p.w.compute()
  } catch (error) {
    if (error instanceof DynamoError && error.cancels) return validation(error)
    throw error
  }
  return { Code: 'None' }
}

/** Transactions cost twice the units of the writes and reads they make. */
function transactionUnits(entries: Entry[]) {
  const units = new Map<string, { read: number; write: Units }>()
  for (const { kind, w, done } of entries) {
    const u = units.get(w.table.name) ?? { read: 0, write: { table: 0, indexes: {} } }
    if (kind === 'ConditionCheck') u.read += 2 * readUnits(w.old, true)
    else {
      const c = writeCapacity(done as Write)
      u.write.table += 2 * c.table
      for (const [k, n] of Object.entries(c.indexes)) {
        u.write.indexes[k] = (u.write.indexes[k] ?? 0) + 2 * n
      }
    }
    units.set(w.table.name, u)
  }
  return units
}

export function TransactWriteItems(db: Database, input: Input): unknown {
  const entries: Entry[] = checkTransactItems(input.TransactItems).map((entry) => {
    const kind = KINDS.filter((k) => entry[k])[0]
    const w = prepare(db, kind, entry[kind], ['NONE'], true)
    return { kind, w, withOld: onFailure(entry[kind]) }
  })
  const ids = new Set(entries.map((p) => `${p.w.table.name}\u0000${p.w.id}`))
  if (ids.size !== entries.length) {
    throw invalid('Transaction request cannot include multiple operations on one item')
  }
  const reasons = entries.map(reasonOf)
  if (reasons.some((r) => r.Code !== 'None')) {
    throw new DynamoError(
      `${DDB}TransactionCanceledException`,
      `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      { CancellationReasons: reasons },
    )
  }
  for (const { kind, done } of entries) if (kind !== 'ConditionCheck') commit(db, done as Write)
  if (!wantsCapacity(input)) return {}
  return {
    ConsumedCapacity: [...transactionUnits(entries)].map(([table, u]) =>
      transactionCapacity(input, table, u.read, u.write),
    ),
  }
}

/** One request of a BatchWriteItem, checked, computed and costed. */
function batchWrite(db: Database, table: string, request: Input): { w: Write; units: Units } {
  const put = request?.PutRequest
  const del = request?.DeleteRequest
  if (!!put === !!del) {
    throw invalid(
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    )
  }
  const p = put
    ? prepare(db, 'Put', { TableName: table, Item: put.Item })
    : prepare(db, 'Delete', { TableName: table, Key: del.Key })
  const w = p.compute()
  // DynamoDB Local charges 2 units for a batch delete of a missing item.
  const units = !put && !w.old ? { table: 2, indexes: {} } : writeCapacity(w)
  return { w, units }
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
  const writes: { w: Write; units: Units }[] = []
  for (const name of names) {
    const seen = new Set<string>()
    for (const request of requests[name]) {
      const write = batchWrite(db, name, request)
      if (seen.has(write.w.id)) throw invalid('Provided list of item keys contains duplicates')
      seen.add(write.w.id)
      writes.push(write)
    }
  }
  const units = new Map<string, Units>()
  for (const { w, units: n } of writes) {
    commit(db, w)
    const u = units.get(w.table.name) ?? { table: 0, indexes: {} }
    u.table += n.table
    for (const [k, x] of Object.entries(n.indexes)) u.indexes[k] = (u.indexes[k] ?? 0) + x
    units.set(w.table.name, u)
  }
  return {
    UnprocessedItems: {},
    ...(wantsCapacity(input)
      ? { ConsumedCapacity: [...units].map(([table, u]) => capacityOf(input, table, u)) }
      : {}),
  }
}
