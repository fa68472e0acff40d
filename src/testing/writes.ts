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

/** The item an update leaves, refused when it nests too deep or grows over 400 KB. */
function updated(old: Item | undefined, key: Item, update: UpdateActions): Item {
  const next = applyUpdate(old, key, update)
  for (const name of Object.keys(next)) {
    if (nesting(next[name]) > ITEM_NESTING) {
      throw invalid('Nesting Levels have exceeded supported limits')
    }
  }
  if (itemSize(next) > MAX_ITEM_BYTES) {
    throw invalid('Item size to update has exceeded the maximum allowed size')
  }
  return next
}

/**
 * Prepares one write (put, update, delete or condition check) without applying it, checking the
 * request in DynamoDB Local's order: the table, ReturnValues, the item's size, its values, the
 * key, then the expressions.
 */
export function prepare(
  db: Database,
  kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck',
  input: Input,
  returns: string[] = ['NONE'],
): Prepared {
  checkTableName(input.TableName)
  const table = tableOf(db, input.TableName)
  const returnValues = checkReturnValues(input, returns)
  if (kind === 'Put' && sentSize(input.Item) > MAX_ITEM_BYTES) {
    throw invalid('Item size has exceeded the maximum allowed size')
  }
  const item = kind === 'Put' ? checkItem(input.Item) : undefined
  const { key, id } = checkKey(table, item ?? checkItem(input.Key), kind === 'Put')
  const parsed = expressions(
    input,
    kind === 'Update'
      ? { UpdateExpression: 'update', ConditionExpression: 'condition' }
      : { ConditionExpression: 'condition' },
  )
  // An UpdateItem without an UpdateExpression creates the item with its key alone.
  const update = kind === 'Update' ? (parsed.update ?? NO_UPDATE) : undefined
  if (update) checkKeyNotUpdated(table, update)
  const old = table.items.get(id)
  const compute = (): Write => {
    const next = item ?? (update ? updated(old, key, update) : kind === 'Delete' ? undefined : old)
    return { table, id, key, old, next }
  }
  const passes = () => !parsed.condition || test(old, parsed.condition)
  return { table, id, key, old, compute, passes, parsed, returnValues }
}

const NO_UPDATE: UpdateActions = { set: [], remove: [], add: [], delete: [] }

export function commit(w: Write): void {
  if (w.next) w.table.items.set(w.id, clone(w.next))
  else w.table.items.delete(w.id)
}
