/**
 * @module The in-memory database: its tables, their items and indexes, and the checks of table
 * names and keys every operation shares.
 */
import { invalid, invalidItem, notFound } from './errors.ts'
import { valueSize } from './size.ts'
import { type Item, order, own, put, typeOf } from './values.ts'

export interface KeyElement {
  AttributeName: string
  KeyType: 'HASH' | 'RANGE'
}

export interface AttributeDefinition {
  AttributeName: string
  AttributeType: string
}

export interface Projection {
  ProjectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'
  NonKeyAttributes?: string[]
}

export interface Throughput {
  ReadCapacityUnits: number
  WriteCapacityUnits: number
}

/** A global secondary index: its entries by the table key of the item each comes from. */
export interface Index {
  name: string
  keySchema: KeyElement[]
  projection: Projection
  throughput: Throughput
  status: 'CREATING' | 'ACTIVE'
  entries: Map<string, Item>
}

export interface Table {
  name: string
  keySchema: KeyElement[]
  attributeDefinitions: AttributeDefinition[]
  billingMode: string
  throughput: Throughput
  created: number
  ttl: string | undefined
  items: Map<string, Item>
  indexes: Index[]
  /** Index changes not yet visible, oldest first (`indexLagMs`). */
  pending: { due: number; run: () => void }[]
}

/** The tables of one `memoryDynamoDB()`. */
export interface Database {
  readonly tables: Map<string, Table>
  /** How long after a write its index entries appear, in ms. */
  readonly indexLagMs: number
}

const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/

export function checkTableName(name: unknown): void {
  if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
    throw invalid(
      "Invalid table/index name.  Table/index names must be between 3 and 255 characters long, and may contain only the characters a-z, A-Z, 0-9, '_', '-', and '.'",
    )
  }
}

export function tableOf(db: Database, name: unknown): Table {
  checkTableName(name)
  const t = db.tables.get(name as string)
  if (!t) throw notFound()
  return t
}

/** The type an attribute is defined with (S, N or B), if it is a key of the table or an index. */
export const typeOfKey = (t: Table, name: string): string | undefined =>
  t.attributeDefinitions.find((d) => d.AttributeName === name)?.AttributeType

/** The map id of an item's or a key's table key. */
export const keyId = (t: Table, key: Item): string =>
  JSON.stringify(t.keySchema.map((k) => own(key, k.AttributeName)))

/** Validates a key against the table's schema; returns the normalised key and its map id. */
export function checkKey(t: Table, key: Item, fromItem = false): { key: Item; id: string } {
  if (!fromItem && Object.keys(key).length !== t.keySchema.length) {
    throw invalid('The number of conditions on the keys is invalid')
  }
  const out: Item = {}
  for (const k of t.keySchema) {
    const v = own(key, k.AttributeName)
    if (!v) throw invalid('One of the required keys was not given a value')
    const type = typeOfKey(t, k.AttributeName)
    if (typeOf(v) !== type) {
      throw invalidItem('One or more parameter values were invalid: Type mismatch for key')
    }
    if ((type === 'S' || type === 'B') && v[type] === '') {
      throw invalid(
        `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${type === 'S' ? 'string' : 'binary'} value. Key: ${k.AttributeName}`,
      )
    }
    if (valueSize(v) > (k.KeyType === 'HASH' ? 2048 : 1024)) {
      throw invalid(
        'Hash primary key values must be under 2048 bytes, and range primary key values must be under 1024 bytes',
      )
    }
    put(out, k.AttributeName, v)
  }
  return { key: out, id: keyId(t, out) }
}

/** Orders two entries by the values of the given key attributes, in turn. */
export function compareKeys(a: Item, b: Item, keys: KeyElement[]): number {
  for (const k of keys) {
    const o = order(own(a, k.AttributeName), own(b, k.AttributeName)) ?? 0
    if (o !== 0) return o
  }
  return 0
}
