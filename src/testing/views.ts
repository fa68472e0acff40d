/**
 * @module What a test sees of the in-memory DynamoDB's tables: read-only views, copied at each
 * look, with the index changes whose lag has passed applied first.
 */
import type { Table } from './database.ts'
import { settle } from './indexes.ts'
import { clone, type Item } from './values.ts'

/** A global secondary index of a table, for assertions in tests. */
export interface MemoryIndex {
  readonly name: string
  /** The index's key attributes, hash key first. */
  readonly keySchema: readonly { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[]
  /** `CREATING` from UpdateTable until its items are in (after `indexLagMs`), then `ACTIVE`. */
  readonly status: 'CREATING' | 'ACTIVE'
  /** A copy of every entry the index holds now (the projected attributes of each item in it). */
  readonly items: Item[]
}

/** A table of the in-memory DynamoDB, for assertions in tests. */
export interface MemoryTable {
  readonly name: string
  /** The key attributes, hash key first. */
  readonly keySchema: readonly { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[]
  /** The TTL attribute, when TTL is enabled. */
  readonly ttlAttribute: string | undefined
  /** A copy of every item. */
  readonly items: Item[]
  /** The table's global secondary indexes. */
  readonly indexes: readonly MemoryIndex[]
}

function viewOf(t: Table): MemoryTable {
  return {
    name: t.name,
    keySchema: t.keySchema,
    get ttlAttribute() {
      return t.ttl
    },
    get items() {
      return [...t.items.values()].map(clone)
    },
    get indexes() {
      settle(t)
      return t.indexes.map((index) => ({
        name: index.name,
        keySchema: index.keySchema,
        status: index.status,
        items: [...index.entries.values()].map(clone),
      }))
    },
  }
}

/** The tables of a database by name, as views. */
export const viewsOf = (tables: Map<string, Table>): ReadonlyMap<string, MemoryTable> =>
  new Map([...tables.values()].map((t) => [t.name, viewOf(t)]))
