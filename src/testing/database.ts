/**
 * @module The in-memory database: its tables, their items by key, and the checks of table
 * names and keys every operation shares.
 */
import { invalid, notFound } from './errors.ts'
import { valueSize } from './size.ts'
import { type Item, typeOf } from './values.ts'

export interface KeyElement {
  AttributeName: string
  KeyType: 'HASH' | 'RANGE'
}

export interface Table {
  name: string
  keySchema: KeyElement[]
  attributeDefinitions: { AttributeName: string; AttributeType: string }[]
  billingMode: string
  throughput: { ReadCapacityUnits: number; WriteCapacityUnits: number }
  created: number
  ttl: string | undefined
  items: Map<string, Item>
}

const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/

/** The tables of one `memoryDynamoDB()`. */
export interface Database {
  readonly tables: Map<string, Table>
}

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

/** Validates a key against the table's schema; returns the normalised key and its map id. */
export function checkKey(t: Table, key: Item, fromItem = false): { key: Item; id: string } {
  if (!fromItem && Object.keys(key).length !== t.keySchema.length) {
    throw invalid('The number of conditions on the keys is invalid')
  }
  const out: Item = {}
  for (const k of t.keySchema) {
    const v = key[k.AttributeName]
    if (!v) throw invalid('One of the required keys was not given a value')
    const type = t.attributeDefinitions.find(
      (d) => d.AttributeName === k.AttributeName,
    )?.AttributeType
    if (typeOf(v) !== type) {
      throw invalid('One or more parameter values were invalid: Type mismatch for key')
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
    out[k.AttributeName] = v
  }
  return { key: out, id: JSON.stringify(t.keySchema.map((k) => out[k.AttributeName])) }
}
