/**
 * @module The single-item operations: GetItem, PutItem, UpdateItem and DeleteItem.
 */
import { consumed, readUnits } from './capacity.ts'
import { checkKey, checkTableName, type Database, tableOf } from './database.ts'
import { conditionFailed } from './errors.ts'
import { project } from './expressions/apply-projection.ts'
import type { UpdateActions } from './expressions/ast.ts'
import { resolve } from './expressions/document.ts'
import { expressions } from './expressions/request.ts'
import { checkItem, clone, type Input, type Item, put } from './values.ts'
import { commit, onFailure, type Prepared, prepare, type Write, writeCapacity } from './writes.ts'

export function GetItem(db: Database, input: Input): unknown {
  checkTableName(input.TableName)
  const t = tableOf(db, input.TableName)
  const { id } = checkKey(t, checkItem(input.Key))
  // GetItem takes no values: DynamoDB Local ignores any sent.
  const { projection } = expressions(
    { ...input, ExpressionAttributeValues: undefined },
    { ProjectionExpression: 'projection' },
    'ProjectionExpression is null',
  )
  const item = t.items.get(id)
  const units = readUnits(item, input.ConsistentRead === true)
  return {
    ...(item ? { Item: projection ? project(item, projection) : clone(item) } : {}),
    ...consumed(input, t.name, { table: units, indexes: {} }),
  }
}

/** Runs a prepared single-item write: its condition, then the write itself. */
function run(db: Database, w: Prepared, input: Input): Write {
  const withOld = onFailure(input)
  if (!w.passes()) throw conditionFailed(withOld ? clone(w.old) : undefined)
  const done = w.compute()
  commit(db, done)
  return done
}

export function PutItem(db: Database, input: Input): unknown {
  const w = prepare(db, 'Put', input, ['NONE', 'ALL_OLD'])
  const done = run(db, w, input)
  return {
    ...(w.returnValues === 'ALL_OLD' && w.old ? { Attributes: clone(w.old) } : {}),
    ...consumed(input, w.table.name, writeCapacity(done)),
  }
}

/** As DynamoDB Local: the whole top-level attribute of every updated path that exists. */
function updatedAttributes(source: Item, u: UpdateActions): Item {
  const paths = [
    ...u.set.map((a) => a.path),
    ...u.remove,
    ...u.add.map((a) => a.path),
    ...u.delete.map((a) => a.path),
  ]
  const attributes: Item = {}
  for (const p of paths) {
    if (resolve(source, p)) put(attributes, p[0] as string, source[p[0] as string])
  }
  return attributes
}

export function UpdateItem(db: Database, input: Input): unknown {
  const returns = ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW']
  const w = prepare(db, 'Update', input, returns)
  const done = run(db, w, input)
  const r = w.returnValues
  let attributes: Item | undefined
  if (r === 'ALL_OLD') attributes = w.old
  else if (r === 'ALL_NEW') attributes = done.next
  else if (r !== 'NONE') {
    const source = (r === 'UPDATED_OLD' ? w.old : done.next) ?? {}
    if (w.parsed.update) attributes = updatedAttributes(source, w.parsed.update)
  }
  return {
    ...(attributes && Object.keys(attributes).length ? { Attributes: clone(attributes) } : {}),
    ...consumed(input, w.table.name, writeCapacity(done)),
  }
}

export function DeleteItem(db: Database, input: Input): unknown {
  const w = prepare(db, 'Delete', input, ['NONE', 'ALL_OLD'])
  const done = run(db, w, input)
  return {
    ...(w.returnValues === 'ALL_OLD' && w.old ? { Attributes: clone(w.old) } : {}),
    ...consumed(input, w.table.name, writeCapacity(done)),
  }
}
