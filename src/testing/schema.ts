/**
 * @module The checks of a table's and its indexes' definitions (CreateTable, UpdateTable), worded
 * as DynamoDB Local words them, and the index a valid definition makes.
 */
import {
  type AttributeDefinition,
  checkTableName,
  type Index,
  type KeyElement,
  type Projection,
  type Throughput,
} from './database.ts'
import { invalid } from './errors.ts'
import type { Input } from './values.ts'

const MAX_INDEXES = 20

/** Checks AttributeDefinitions: present, typed S, N or B, each name once. */
export function checkDefinitions(defs: unknown): AttributeDefinition[] {
  if (!Array.isArray(defs) || defs.length === 0) throw invalid('No Attribute Schema Defined')
  for (const d of defs) {
    if (!['B', 'N', 'S'].includes(d?.AttributeType)) {
      throw invalid('Member must satisfy enum value set: [B, N, S]')
    }
  }
  const names = defs.map((d) => d.AttributeName)
  if (new Set(names).size !== names.length) {
    throw invalid('Cannot have two attributes with the same name')
  }
  return defs.map((d) => ({ AttributeName: d.AttributeName, AttributeType: d.AttributeType }))
}

/** Checks a key schema: one hash key first, an optional range key, both defined. */
export function checkKeySchema(
  schema: unknown,
  defs: AttributeDefinition[],
  owner: 'table' | 'index',
): KeyElement[] {
  if (!Array.isArray(schema)) {
    throw invalid(
      'No defined key schema.  A key schema containing at least a hash key must be defined for all tables',
    )
  }
  const hashes = schema.filter((k) => k?.KeyType === 'HASH').length
  if (hashes === 0) {
    throw invalid(
      'No Hash Key specified in schema.  All Dynamo DB tables must have exactly one hash key',
    )
  }
  if (hashes > 1 || schema.length > 2) {
    throw invalid(
      'Too many hash keys specified.  All Dynamo DB tables must have exactly one hash key',
    )
  }
  if (schema[0].KeyType !== 'HASH') {
    throw invalid(
      'Invalid key order. Hash Key must be specified first in key schema, Range Key must be specifed second',
    )
  }
  for (const k of schema) {
    if (!defs.some((d) => d.AttributeName === k.AttributeName)) {
      const which = k.KeyType === 'HASH' ? 'hash' : 'range'
      throw invalid(
        owner === 'table'
          ? `${which === 'hash' ? 'Hash' : 'Range'} Key not specified in Attribute Definitions.  Type unknown.`
          : `Global Secondary Index ${which} key not specified in Attribute Definitions.Type unknown.`,
      )
    }
  }
  return schema.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType }))
}

function checkProjection(projection: unknown): Projection {
  const p = projection as Partial<Projection> | undefined
  if (!p?.ProjectionType) throw invalid('Indexes must have a projection specified')
  if (!['ALL', 'KEYS_ONLY', 'INCLUDE'].includes(p.ProjectionType)) {
    throw invalid('Projection type must be INCLUDE, ALL, or KEYS_ONLY')
  }
  const names = p.NonKeyAttributes ?? []
  if (p.ProjectionType === 'INCLUDE' && names.length === 0) {
    throw invalid(
      'If Projection type INCLUDE is specified, some non-key attributes to include in the projection must be specified as well',
    )
  }
  if (p.ProjectionType !== 'INCLUDE' && p.NonKeyAttributes) {
    throw invalid(
      'No attributes should be specified to be projected unless projection type is INCLUDE',
    )
  }
  if (new Set(names).size !== names.length) {
    throw invalid('Cannot have two attributes with the same name')
  }
  return p.ProjectionType === 'INCLUDE'
    ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...names] }
    : { ProjectionType: p.ProjectionType }
}

/** Checks one GlobalSecondaryIndexes entry (or an UpdateTable Create) and makes its index. */
export function checkIndex(spec: Input, defs: AttributeDefinition[], billingMode: string): Index {
  checkTableName(spec?.IndexName)
  const keySchema = checkKeySchema(spec.KeySchema, defs, 'index')
  const projection = checkProjection(spec.Projection)
  const given = spec.ProvisionedThroughput
  if (billingMode === 'PROVISIONED' && !given) {
    throw invalid('No provisioned throughput specified for the global secondary index')
  }
  const throughput: Throughput =
    billingMode === 'PROVISIONED'
      ? { ReadCapacityUnits: given.ReadCapacityUnits, WriteCapacityUnits: given.WriteCapacityUnits }
      : { ReadCapacityUnits: 0, WriteCapacityUnits: 0 }
  return {
    name: spec.IndexName,
    keySchema,
    projection,
    throughput,
    status: 'ACTIVE',
    entries: new Map(),
  }
}

/** Checks a CreateTable's GlobalSecondaryIndexes. */
export function checkIndexes(
  specs: unknown,
  defs: AttributeDefinition[],
  billingMode: string,
): Index[] {
  if (specs === undefined) return []
  if (!Array.isArray(specs) || specs.length === 0) throw invalid('GSI list is empty/invalid')
  if (specs.length > MAX_INDEXES) {
    throw invalid('GlobalSecondaryIndex count exceeds the per-table limit')
  }
  const indexes = specs.map((s) => checkIndex(s, defs, billingMode))
  const names = indexes.map((i) => i.name)
  if (new Set(names).size !== names.length) {
    throw invalid('Two global secondary indices have the same name')
  }
  return indexes
}

/** Every attribute definition must key the table or an index. */
export function checkAllDefinitionsUsed(
  defs: AttributeDefinition[],
  schemas: KeyElement[][],
): void {
  const used = new Set(schemas.flat().map((k) => k.AttributeName))
  if (used.size !== defs.length) {
    throw invalid(
      'The number of attributes in key schema must match the number of attributes defined in attribute definitions.',
    )
  }
}

export { MAX_INDEXES }
