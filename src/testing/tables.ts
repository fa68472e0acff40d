/**
 * @module The table operations: CreateTable (with global secondary indexes), UpdateTable (adding
 * or removing an index), DescribeTable, DeleteTable and ListTables.
 */
import {
  type AttributeDefinition,
  checkTableName,
  type Database,
  type Index,
  type Table,
  tableOf,
} from './database.ts'
import { DDB, DynamoError, internalFailure, invalid } from './errors.ts'
import { backfill, settle } from './indexes.ts'
import {
  checkAllDefinitionsUsed,
  checkDefinitions,
  checkIndex,
  checkIndexes,
  checkKeySchema,
  MAX_INDEXES,
} from './schema.ts'
import { itemSize } from './size.ts'
import { clone, type Input } from './values.ts'

const arn = (t: Table) => `arn:aws:dynamodb:ddblocal:000000000000:table/${t.name}`

function describeIndex(t: Table, index: Index) {
  const creating = index.status === 'CREATING'
  let size = 0
  for (const entry of index.entries.values()) size += itemSize(entry)
  return {
    IndexName: index.name,
    KeySchema: clone(index.keySchema),
    Projection: clone(index.projection),
    IndexStatus: index.status,
    ...(creating ? { Backfilling: false } : {}),
    ProvisionedThroughput: { ...index.throughput },
    ...(creating ? {} : { IndexSizeBytes: size, ItemCount: index.entries.size }),
    IndexArn: `${arn(t)}/index/${index.name}`,
  }
}

function describe(t: Table) {
  let size = 0
  for (const item of t.items.values()) size += itemSize(item)
  return {
    AttributeDefinitions: clone(t.attributeDefinitions),
    TableName: t.name,
    KeySchema: clone(t.keySchema),
    TableStatus: 'ACTIVE',
    CreationDateTime: t.created,
    ProvisionedThroughput: {
      LastIncreaseDateTime: 0,
      LastDecreaseDateTime: 0,
      NumberOfDecreasesToday: 0,
      ...t.throughput,
    },
    TableSizeBytes: size,
    ItemCount: t.items.size,
    TableArn: arn(t),
    ...(t.billingMode === 'PAY_PER_REQUEST'
      ? {
          BillingModeSummary: {
            BillingMode: 'PAY_PER_REQUEST',
            LastUpdateToPayPerRequestDateTime: t.created,
          },
        }
      : {}),
    ...(t.indexes.length
      ? { GlobalSecondaryIndexes: t.indexes.map((index) => describeIndex(t, index)) }
      : {}),
    DeletionProtectionEnabled: false,
  }
}

function checkBilling(input: Input): string {
  const billingMode = input.BillingMode ?? 'PROVISIONED'
  if (billingMode !== 'PROVISIONED' && billingMode !== 'PAY_PER_REQUEST') throw internalFailure()
  if (billingMode === 'PROVISIONED' && !input.ProvisionedThroughput) {
    throw invalid('No provisioned throughput specified for the table')
  }
  return billingMode
}

export function CreateTable(db: Database, input: Input): unknown {
  checkTableName(input.TableName)
  // DynamoDB Local reports a missing key schema before missing definitions.
  if (!Array.isArray(input.KeySchema)) checkKeySchema(input.KeySchema, [], 'table')
  const defs = checkDefinitions(input.AttributeDefinitions)
  const keySchema = checkKeySchema(input.KeySchema, defs, 'table')
  const billingMode = checkBilling(input)
  const indexes = checkIndexes(input.GlobalSecondaryIndexes, defs, billingMode)
  checkAllDefinitionsUsed(defs, [keySchema, ...indexes.map((i) => i.keySchema)])
  if (db.tables.has(input.TableName)) {
    throw new DynamoError(`${DDB}ResourceInUseException`, 'Cannot create preexisting table')
  }
  const throughput = billingMode === 'PROVISIONED' ? input.ProvisionedThroughput : undefined
  const t: Table = {
    name: input.TableName,
    keySchema,
    attributeDefinitions: defs,
    billingMode,
    throughput: {
      ReadCapacityUnits: throughput?.ReadCapacityUnits ?? 0,
      WriteCapacityUnits: throughput?.WriteCapacityUnits ?? 0,
    },
    created: Date.now() / 1000,
    ttl: undefined,
    items: new Map(),
    indexes,
    pending: [],
  }
  db.tables.set(t.name, t)
  return { TableDescription: describe(t) }
}

/** The definitions after an UpdateTable: the new ones first, then the others, as DynamoDB Local. */
function mergeDefinitions(t: Table, input: Input): AttributeDefinition[] {
  const added = checkDefinitions(input.AttributeDefinitions)
  for (const d of added) {
    const known = t.attributeDefinitions.find((x) => x.AttributeName === d.AttributeName)
    if (known && known.AttributeType !== d.AttributeType) {
      throw invalid(
        'invalid attribute, SchemaElement redefined should be of same type as previously defined',
      )
    }
  }
  const rest = t.attributeDefinitions.filter(
    (x) => !added.some((d) => d.AttributeName === x.AttributeName),
  )
  return [...added, ...rest]
}

function checkIndexUpdates(t: Table, updates: unknown): Input[] {
  if (!Array.isArray(updates) || updates.length === 0) throw invalid('Nothing to update')
  if (t.indexes.some((i) => i.status === 'CREATING')) {
    throw new DynamoError(
      `${DDB}ResourceInUseException`,
      'Attempt to change a resource which is still in use: Index is being created.',
    )
  }
  if (updates.filter((u) => u?.Create || u?.Delete).length > 1) {
    throw new DynamoError(
      `${DDB}LimitExceededException`,
      'Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table',
    )
  }
  for (const u of updates) {
    if (!u?.Create && !u?.Delete && !u?.Update) {
      throw invalid('Update global secondary index action is null')
    }
  }
  return updates
}

/** Adds an index (its items appear after `indexLagMs`; CREATING until then) or removes one. */
export function UpdateTable(db: Database, input: Input): unknown {
  const t = tableOf(db, input.TableName)
  settle(t)
  const updates = input.GlobalSecondaryIndexUpdates
  if (updates === undefined && input.BillingMode === t.billingMode) {
    return { TableDescription: describe(t) }
  }
  for (const u of checkIndexUpdates(t, updates)) {
    if (u.Create) {
      const defs = mergeDefinitions(t, input)
      const index = checkIndex(u.Create, defs, t.billingMode)
      if (t.indexes.some((i) => i.name === index.name)) {
        throw invalid('Attempting to create an index which already exists')
      }
      if (t.indexes.length >= MAX_INDEXES) {
        throw invalid('GlobalSecondaryIndex count exceeds the per-table limit')
      }
      t.attributeDefinitions = defs
      index.status = 'CREATING'
      t.indexes.push(index)
      backfill(db, t, index)
    } else {
      const name = (u.Delete ?? u.Update).IndexName
      const at = t.indexes.findIndex((i) => i.name === name)
      if (at < 0 && u.Delete) {
        throw new DynamoError(`${DDB}ResourceNotFoundException`, 'Requested resource not found')
      }
      if (at < 0) throw invalid('Invalid global secondary index name')
      if (u.Delete) t.indexes.splice(at, 1)
    }
  }
  return { TableDescription: describe(t) }
}

export function DescribeTable(db: Database, input: Input): unknown {
  const t = tableOf(db, input.TableName)
  settle(t)
  return { Table: describe(t) }
}

export function DeleteTable(db: Database, input: Input): unknown {
  const t = tableOf(db, input.TableName)
  settle(t)
  db.tables.delete(t.name)
  return { TableDescription: describe(t) }
}

export function ListTables(db: Database, input: Input): unknown {
  const names = [...db.tables.keys()].sort()
  const start = input.ExclusiveStartTableName
  const from = start ? names.filter((n) => n > start) : names
  const limit = input.Limit ?? 100
  if (limit < 1 || limit > 100) {
    throw invalid(
      `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value ${limit < 1 ? 'greater than or equal to 1' : 'less than or equal to 100'}`,
    )
  }
  const page = from.slice(0, limit)
  return {
    TableNames: page,
    ...(from.length > limit ? { LastEvaluatedTableName: page[page.length - 1] } : {}),
  }
}
