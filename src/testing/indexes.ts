/**
 * @module Global secondary indexes at work: which items an index holds (sparse: only those with
 * its key attributes, of their defined types), what each entry projects, the index keys a write
 * is checked for, the write units it costs each index, and index changes made visible at once or
 * `indexLagMs` later, in order.
 */
import { itemWriteUnits } from './capacity.ts'
import { type Database, type Index, type KeyElement, type Table, typeOfKey } from './database.ts'
import { invalid, invalidItem } from './errors.ts'
import { valueSize } from './size.ts'
import { type AttributeValue, clone, equal, type Item, own, put, typeOf } from './values.ts'

/** The attributes an index's entries hold, or undefined when it projects them all. */
export function projectedNames(t: Table, index: Index): string[] | undefined {
  if (index.projection.ProjectionType === 'ALL') return undefined
  const names = [...t.keySchema, ...index.keySchema].map((k) => k.AttributeName)
  for (const n of index.projection.NonKeyAttributes ?? []) names.push(n)
  return [...new Set(names)]
}

/** The entry an item makes in an index, or undefined when the item is not in it. */
export function entryOf(t: Table, index: Index, item: Item | undefined): Item | undefined {
  if (!item) return undefined
  for (const k of index.keySchema) {
    const v = own(item, k.AttributeName)
    if (!v || typeOf(v) !== typeOfKey(t, k.AttributeName)) return undefined
  }
  const names = projectedNames(t, index)
  if (!names) return clone(item)
  const entry: Item = {}
  for (const n of names) {
    const v = own(item, n)
    if (v) put(entry, n, clone(v))
  }
  return entry
}

const SCALARS = ['S', 'N', 'B']

/** An index key attribute a write sets (undefined: not set, or an update left it as it was). */
interface KeyValue {
  index: Index
  key: KeyElement
  value: AttributeValue | undefined
  type: string | undefined
}

/** The first pass: an empty value (an index whose hash key has the wrong type is passed over). */
function checkEmpty(keys: KeyValue[], update: boolean): void {
  for (const { index, key, value, type } of keys) {
    if (!value) continue
    if (typeOf(value) !== type) break
    if (value[typeOf(value)] !== '') continue
    const what = type === 'S' ? 'string' : 'binary'
    throw invalid(
      update
        ? `One or more parameter values are not valid. The update expression attempted to update a secondary index key to a value that is not supported. The AttributeValue for a key attribute cannot contain an empty ${what} value.`
        : `One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty ${what} value. IndexName: ${index.name}, IndexKey: ${key.AttributeName}`,
    )
  }
}

/**
 * Checks the index key attributes a write sets, in DynamoDB Local's three passes: empty values,
 * then sizes, then types. A put checks every index key it carries; an update only those it
 * changed, so an item written with a bad key before its index was added stays writable.
 */
export function checkIndexKeys(t: Table, item: Item, old: Item | undefined, update: boolean): void {
  const byIndex = t.indexes.map((index) =>
    index.keySchema.map((key): KeyValue => {
      const v = own(item, key.AttributeName)
      const changed = v && (!update || !equal(v, own(old, key.AttributeName)))
      return { index, key, value: changed ? v : undefined, type: typeOfKey(t, key.AttributeName) }
    }),
  )
  for (const keys of byIndex) checkEmpty(keys, update)
  const all = byIndex.flat()
  for (const { key, value, type } of all) {
    if (
      value &&
      typeOf(value) === type &&
      valueSize(value) > (key.KeyType === 'HASH' ? 2048 : 1024)
    ) {
      throw invalid('One or more parameter values were invalid: Size limit exceeded')
    }
  }
  for (const { value, type } of all) {
    if (!value) continue
    if (!SCALARS.includes(typeOf(value))) throw invalidItem('Invalid attribute value type')
    if (typeOf(value) !== type) {
      throw invalidItem('One or more parameter values were invalid: Type mismatch for Index Key')
    }
  }
}

/** The write units a write costs each index it changes. */
export function indexWriteUnits(
  t: Table,
  old: Item | undefined,
  next: Item | undefined,
): Record<string, number> {
  const units: Record<string, number> = {}
  for (const index of t.indexes) {
    const before = entryOf(t, index, old)
    const after = entryOf(t, index, next)
    if (!before && !after) continue
    if (before && after && equal({ M: before }, { M: after })) continue
    const sameKey =
      before &&
      after &&
      index.keySchema.every((k) => equal(before[k.AttributeName], after[k.AttributeName]))
    units[index.name] =
      before && after && sameKey
        ? Math.max(itemWriteUnits(before), itemWriteUnits(after))
        : (before ? itemWriteUnits(before) : 0) + (after ? itemWriteUnits(after) : 0)
  }
  return units
}

/** Applies the index changes whose time has come, oldest first. */
export function settle(t: Table): void {
  const now = Date.now()
  while (t.pending.length && t.pending[0].due <= now) t.pending.shift()?.run()
}

/** Queues a change to the table's indexes, visible after `indexLagMs`. */
function schedule(db: Database, t: Table, run: () => void): void {
  t.pending.push({ due: Date.now() + db.indexLagMs, run })
  settle(t)
}

/** Records how a write to item `id` changes each index. */
export function updateIndexes(
  db: Database,
  t: Table,
  id: string,
  old: Item | undefined,
  next: Item | undefined,
): void {
  for (const index of t.indexes) {
    const before = entryOf(t, index, old)
    const after = entryOf(t, index, next)
    if (!before && !after) continue
    schedule(db, t, () => {
      if (after) index.entries.set(id, after)
      else index.entries.delete(id)
    })
  }
}

/** Fills a new index from the table's items as they are now; it is ACTIVE once filled. */
export function backfill(db: Database, t: Table, index: Index): void {
  const entries = new Map<string, Item>()
  for (const [id, item] of t.items) {
    const entry = entryOf(t, index, item)
    if (entry) entries.set(id, entry)
  }
  t.pending.push({
    due: Date.now() + db.indexLagMs,
    run: () => {
      for (const [id, entry] of entries) index.entries.set(id, entry)
      index.status = 'ACTIVE'
    },
  })
}

/** Finds the index a Query or Scan names, if any. */
export function indexOf(t: Table, name: unknown): Index | undefined {
  if (name === undefined) return undefined
  const index = t.indexes.find((i) => i.name === name)
  if (!index) throw invalid(`The table does not have the specified index: ${name}`)
  return index
}
