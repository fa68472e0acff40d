/**
 * @module The single-item operations: GetItem, PutItem, UpdateItem and DeleteItem.
 */
import { checkKey, checkTableName, type Database, tableOf } from './database.ts'
import { conditionFailed } from './errors.ts'
import { project } from './expressions/apply-projection.ts'
import type { UpdateActions } from './expressions/ast.ts'
import { resolve } from './expressions/document.ts'
import { expressions } from './expressions/request.ts'
import { capacity, readUnits, writeUnits } from './size.ts'
import { checkItem, clone, type Input, type Item, put } from './values.ts'
import { commit, onFailure, prepare } from './writes.ts'

export function GetItem(db: Database, input: Input): unknown {
  checkTableName(input.TableName)
  const t = tableOf(db, input.TableName)
  const { id } = checkKey(t, checkItem(input.Key))
  const { projection } = expressions(input, { ProjectionExpression: 'projection' })
  const item = t.items.get(id)
  const units = readUnits(item, input.ConsistentRead === true)
  return {
    ...(item ? { Item: projection ? project(item, projection) : clone(item) } : {}),
    ...capacity(input, t.name, units),
  }
}
export function PutItem(db: Database, input: Input): unknown {
  const w = prepare(db, 'Put', input, ['NONE', 'ALL_OLD'])
  const r = w.returnValues
  const withOld = onFailure(input)
  if (!w.passes()) throw conditionFailed(withOld ? clone(w.old) : undefined)
  const done = w.compute()
  commit(done)
  return {
    ...(r === 'ALL_OLD' && w.old ? { Attributes: clone(w.old) } : {}),
    ...capacity(input, w.table.name, writeUnits(w.old, done.next)),
  }
}
export function UpdateItem(db: Database, input: Input): unknown {
  const w = prepare(db, 'Update', input, [
    'NONE',
    'ALL_OLD',
    'UPDATED_OLD',
    'ALL_NEW',
    'UPDATED_NEW',
  ])
  const r = w.returnValues
  const withOld = onFailure(input)
  if (!w.passes()) throw conditionFailed(withOld ? clone(w.old) : undefined)
  const done = w.compute()
  commit(done)
  let attributes: Item | undefined
  if (r === 'ALL_OLD') attributes = w.old
  else if (r === 'ALL_NEW') attributes = done.next
  else if (r !== 'NONE') {
    // As DynamoDB Local: the whole top-level attribute of every updated path that exists.
    const source = (r === 'UPDATED_OLD' ? w.old : done.next) ?? {}
    const u = w.parsed.update as UpdateActions
    const paths = [
      ...u.set.map((a) => a.path),
      ...u.remove,
      ...u.add.map((a) => a.path),
      ...u.delete.map((a) => a.path),
    ]
    attributes = {}
    for (const p of paths) {
      if (resolve(source, p)) put(attributes, p[0] as string, source[p[0] as string])
    }
  }
  return {
    ...(attributes && Object.keys(attributes).length ? { Attributes: clone(attributes) } : {}),
    ...capacity(input, w.table.name, writeUnits(w.old, done.next)),
  }
}
export function DeleteItem(db: Database, input: Input): unknown {
  const w = prepare(db, 'Delete', input, ['NONE', 'ALL_OLD'])
  const r = w.returnValues
  const withOld = onFailure(input)
  if (!w.passes()) throw conditionFailed(withOld ? clone(w.old) : undefined)
  commit(w.compute())
  return {
    ...(r === 'ALL_OLD' && w.old ? { Attributes: clone(w.old) } : {}),
    ...capacity(input, w.table.name, writeUnits(w.old)),
  }
}
