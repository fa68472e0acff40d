/**
 * @module The table operations: CreateTable, DescribeTable, DeleteTable, ListTables,
 * UpdateTimeToLive and DescribeTimeToLive.
 */
import { checkTableName, type Database, type KeyElement, type Table, tableOf } from './database.ts'
import { DDB, DynamoError, invalid } from './errors.ts'
import { itemSize } from './size.ts'
import { clone, type Input } from './values.ts'

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
    TableArn: `arn:aws:dynamodb:ddblocal:000000000000:table/${t.name}`,
    ...(t.billingMode === 'PAY_PER_REQUEST'
      ? {
          BillingModeSummary: {
            BillingMode: 'PAY_PER_REQUEST',
            LastUpdateToPayPerRequestDateTime: t.created,
          },
        }
      : {}),
    DeletionProtectionEnabled: false,
  }
}

export function CreateTable(db: Database, input: Input): unknown {
  checkTableName(input.TableName)
  const keySchema = input.KeySchema as KeyElement[] | undefined
  const defs = input.AttributeDefinitions as Table['attributeDefinitions'] | undefined
  if (!Array.isArray(keySchema) || keySchema.length < 1 || keySchema.length > 2) {
    throw invalid(
      "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null",
    )
  }
  if (keySchema[0].KeyType !== 'HASH' || (keySchema[1] && keySchema[1].KeyType !== 'RANGE')) {
    throw invalid('Invalid KeySchema: The first KeySchemaElement is not a HASH key type')
  }
  if (
    !Array.isArray(defs) ||
    defs.length !== keySchema.length ||
    keySchema.some(
      (k) =>
        !defs.some(
          (d) => d.AttributeName === k.AttributeName && ['S', 'N', 'B'].includes(d.AttributeType),
        ),
    )
  ) {
    throw invalid(
      'One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions',
    )
  }
  const billingMode = input.BillingMode ?? 'PROVISIONED'
  const throughput = input.ProvisionedThroughput
  if (billingMode === 'PROVISIONED' && !throughput) {
    throw invalid(
      'One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED',
    )
  }
  if (db.tables.has(input.TableName)) {
    throw new DynamoError(`${DDB}ResourceInUseException`, 'Cannot create preexisting table')
  }
  const t: Table = {
    name: input.TableName,
    keySchema: clone(keySchema),
    attributeDefinitions: clone(defs),
    billingMode,
    throughput: {
      ReadCapacityUnits: throughput?.ReadCapacityUnits ?? 0,
      WriteCapacityUnits: throughput?.WriteCapacityUnits ?? 0,
    },
    created: Date.now() / 1000,
    ttl: undefined,
    items: new Map(),
  }
  db.tables.set(t.name, t)
  return { TableDescription: describe(t) }
}
export const DescribeTable = (db: Database, input: Input): unknown => ({
  Table: describe(tableOf(db, input.TableName)),
})
export function DeleteTable(db: Database, input: Input): unknown {
  const t = tableOf(db, input.TableName)
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
export function UpdateTimeToLive(db: Database, input: Input): unknown {
  const t = tableOf(db, input.TableName)
  const spec = input.TimeToLiveSpecification ?? {}
  if (spec.Enabled) {
    if (t.ttl === spec.AttributeName) throw invalid('TimeToLive is already enabled')
    if (t.ttl) throw invalid('TimeToLive is active on a different AttributeName')
    t.ttl = spec.AttributeName
  } else {
    if (!t.ttl) throw invalid('TimeToLive is already disabled')
    t.ttl = undefined
  }
  return {
    TimeToLiveSpecification: { Enabled: !!spec.Enabled, AttributeName: spec.AttributeName },
  }
}
export function DescribeTimeToLive(db: Database, input: Input): unknown {
  const t = tableOf(db, input.TableName)
  return {
    TimeToLiveDescription: t.ttl
      ? { TimeToLiveStatus: 'ENABLED', AttributeName: t.ttl }
      : { TimeToLiveStatus: 'DISABLED' },
  }
}
