/**
 * @module One write (put, update, delete or condition check) prepared, checked and committed:
 * shared by the single-item operations, batches and transactions.
 */

import { type Units, writeUnits } from './capacity.ts'
import { checkKey, checkTableName, type Database, type Table, tableOf } from './database.ts'
import { DynamoError, invalid, invalidItem } from './errors.ts'
import { applyUpdate } from './expressions/apply-update.ts'
import type { UpdateActions } from './expressions/ast.ts'
import { test } from './expressions/evaluate-condition.ts'
import { expressions, type ParsedExpressions } from './expressions/request.ts'
import { checkIndexKeys, indexWriteUnits, updateIndexes } from './indexes.ts'
import { itemSize, MAX_ITEM_BYTES } from './size.ts'
import { checkItem, clone, type Input, ITEM_NESTING, type Item, nesting } from './values.ts'

export interface Write {
  table: Table
  id: string
  key: Item
  old: Item | undefined
  next: Item | undefined
}

function checkReturnValues(input: Input, allowed: string[]): string {
  const r = input.ReturnValues ?? 'NONE'
  if (!allowed.includes(r)) throw invalid('Return values set to invalid value')
  return r
}

export function onFailure(input: Input): boolean {
  const r = input.ReturnValuesOnConditionCheckFailure ?? 'NONE'
  if (r !== 'NONE' && r !== 'ALL_OLD') {
    throw invalid(
      `1 validation error detected: Value '${r}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]`,
    )
  }
  return r === 'ALL_OLD'
}

/** A write checked against the table, ready to be tested and computed. */
export interface Prepared {
  table: Table
  id: string
  key: Item
  old: Item | undefined
  /** The item as the write leaves it (undefined: deleted); throws when it cannot be written. */
  compute(): Write
  /** Whether the write's condition holds on the stored item. */
  passes(): boolean
  parsed: ParsedExpressions
  /** The request's ReturnValues, checked. */
  returnValues: string
  /** In a transaction: why this item cancels it, found while preparing. */
  failure?: DynamoError
}

/** The size of an item as sent, before its values are checked; 0 when it cannot be counted. */
function sentSize(item: unknown): number {
  try {
    return itemSize(item as Item)
  } catch {
    return 0
  }
}

/** Refuses an update that names a key attribute. */
function checkKeyNotUpdated(table: Table, update: UpdateActions): void {
  for (const a of [
    ...update.set.map((s) => s.path),
    ...update.remove,
    ...update.add.map((s) => s.path),
    ...update.delete.map((s) => s.path),
  ]) {
    if (a.length === 1 && table.keySchema.some((k) => k.AttributeName === a[0])) {
      throw invalid(
        `One or more parameter values were invalid: Cannot update attribute ${a[0]}. This attribute is part of the key`,
      )
    }
  }
}

/** The item an update leaves, refused when it nests too deep, grows over 400 KB or breaks an index. */
function updated(table: Table, old: Item | undefined, key: Item, update: UpdateActions): Item {
  const next = applyUpdate(old, key, update)
  for (const name of Object.keys(next)) {
    if (nesting(next[name]) > ITEM_NESTING) {
      throw invalid('Nesting Levels have exceeded supported limits')
    }
  }
  if (itemSize(next) > MAX_ITEM_BYTES) {
    throw invalidItem('Item size to update has exceeded the maximum allowed size')
  }
  checkIndexKeys(table, next, old, true)
  return next
}

const EXPRESSIONS = {
  Put: { fields: { ConditionExpression: 'condition' }, nullValues: 'ConditionExpression is null' },
  Delete: {
    fields: { ConditionExpression: 'condition' },
    nullValues: 'ConditionExpression is null',
  },
  ConditionCheck: {
    fields: { ConditionExpression: 'condition' },
    nullValues: 'ConditionExpression is null',
  },
  Update: {
    fields: { UpdateExpression: 'update', ConditionExpression: 'condition' },
    nullValues: 'UpdateExpression and ConditionExpression are null',
  },
} as const

/** Checks the item a put writes, and the key; in a transaction, a failure that cancels it is kept. */
function checkItemAndKey(
  table: Table,
  kind: keyof typeof EXPRESSIONS,
  input: Input,
  inTransaction: boolean,
): { item: Item | undefined; key: Item; id: string; failure?: DynamoError } {
  if (kind === 'Put' && sentSize(input.Item) > MAX_ITEM_BYTES) {
    throw invalid('Item size has exceeded the maximum allowed size')
  }
  const item = kind === 'Put' ? checkItem(input.Item) : undefined
  const sent = item ?? checkItem(input.Key)
  try {
    const { key, id } = checkKey(table, sent, kind === 'Put')
    if (item) checkIndexKeys(table, item, undefined, false)
    return { item, key, id }
  } catch (error) {
    if (!inTransaction || !(error instanceof DynamoError) || !error.cancels) throw error
    return { item, key: sent, id: `\u0000${JSON.stringify(sent)}`, failure: error }
  }
}

/**
 * Prepares one write (put, update, delete or condition check) without applying it, checking the
 * request in DynamoDB Local's order: the table, ReturnValues, the item's size, its values, the
 * key and index keys, then the expressions.
 */
export function prepare(
  db: Database,
  kind: keyof typeof EXPRESSIONS,
  input: Input,
  returns: string[] = ['NONE'],
  inTransaction = false,
): Prepared {
  checkTableName(input.TableName)
  const table = tableOf(db, input.TableName)
  const returnValues = checkReturnValues(input, returns)
  const { item, key, id, failure } = checkItemAndKey(table, kind, input, inTransaction)
  const { fields, nullValues } = EXPRESSIONS[kind]
  const parsed = expressions(input, fields, nullValues)
  // An UpdateItem without an UpdateExpression creates the item with its key alone.
  const update = kind === 'Update' ? (parsed.update ?? NO_UPDATE) : undefined
  if (update) checkKeyNotUpdated(table, update)
  const old = failure ? undefined : table.items.get(id)
  const compute = (): Write => {
    const next =
      item ?? (update ? updated(table, old, key, update) : kind === 'Delete' ? undefined : old)
    return { table, id, key, old, next }
  }
  const passes = () => !parsed.condition || test(old, parsed.condition)
  return { table, id, key, old, compute, passes, parsed, returnValues, failure }
}

const NO_UPDATE: UpdateActions = { set: [], remove: [], add: [], delete: [] }

/** Applies a computed write to the table, and to its indexes now or after `indexLagMs`. */
export function commit(db: Database, w: Write): void {
  if (w.next) w.table.items.set(w.id, clone(w.next))
  else w.table.items.delete(w.id)
  updateIndexes(db, w.table, w.id, w.old, w.next)
}

/** The units a computed write consumes on its table and each index it changes. */
export const writeCapacity = (w: Write): Units => ({
  table: writeUnits(w.old, w.next),
  indexes: indexWriteUnits(w.table, w.old, w.next),
})
