/**
 * @module One write (put, update, delete or condition check) prepared, checked and committed:
 * shared by the single-item operations, batches and transactions.
 */
import { checkKey, checkTableName, type Database, type Table, tableOf } from './database.ts'
import { invalid } from './errors.ts'
import { applyUpdate } from './expressions/apply-update.ts'
import type { UpdateActions } from './expressions/ast.ts'
import { test } from './expressions/evaluate-condition.ts'
import { expressions, type ParsedExpressions } from './expressions/request.ts'
import { itemSize, MAX_ITEM_BYTES } from './size.ts'
import { checkItem, clone, type Input, type Item } from './values.ts'

export interface Write {
  table: Table
  id: string
  key: Item
  old: Item | undefined
  next: Item | undefined
}

export function returnValues(input: Input, allowed: string[]): string {
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
}

/** Prepares one write (put, update, delete or condition check) without applying it. */
export function prepare(
  db: Database,
  kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck',
  input: Input,
): Prepared {
  checkTableName(input.TableName)
  const item = kind === 'Put' ? checkItem(input.Item) : undefined
  const rawKey = kind === 'Put' ? undefined : checkItem(input.Key)
  const parsed = expressions(
    input,
    kind === 'Update'
      ? { UpdateExpression: 'update', ConditionExpression: 'condition' }
      : { ConditionExpression: 'condition' },
  )
  // An UpdateItem without an UpdateExpression creates the item with its key alone.
  if (kind === 'Update') parsed.update ??= { set: [], remove: [], add: [], delete: [] }
  const table = tableOf(db, input.TableName)
  const { key, id } = checkKey(table, (item ?? rawKey) as Item, kind === 'Put')
  if (parsed.update) {
    for (const a of [
      ...parsed.update.set.map((s) => s.path),
      ...parsed.update.remove,
      ...parsed.update.add.map((s) => s.path),
      ...parsed.update.delete.map((s) => s.path),
    ]) {
      if (a.length === 1 && table.keySchema.some((k) => k.AttributeName === a[0])) {
        throw invalid(
          `One or more parameter values were invalid: Cannot update attribute ${a[0]}. This attribute is part of the key`,
        )
      }
    }
  }
  if (item && itemSize(item) > MAX_ITEM_BYTES) {
    throw invalid('Item size has exceeded the maximum allowed size')
  }
  const old = table.items.get(id)
  const compute = (): Write => {
    let next: Item | undefined
    if (kind === 'Put') next = item
    else if (kind === 'Update') {
      next = applyUpdate(old, key, parsed.update as UpdateActions)
      if (itemSize(next) > MAX_ITEM_BYTES) {
        throw invalid('Item size to update has exceeded the maximum allowed size')
      }
    } else if (kind === 'ConditionCheck') next = old
    return { table, id, key, old, next }
  }
  const passes = () => !parsed.condition || test(old, parsed.condition)
  return { table, id, key, old, compute, passes, parsed }
}

export function commit(w: Write): void {
  if (w.next) w.table.items.set(w.id, clone(w.next))
  else w.table.items.delete(w.id)
}
