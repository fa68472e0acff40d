/**
 * @module The user index: a sparse global secondary index on `uid`, sorted by `created`, which
 * DynamoDB keeps for us. Only sessions bound by `regenerate({ userId })` have `uid` (and, for the
 * hour their tombstone lasts, the sessions they moved from, `item.ts`), so anonymous sessions are
 * never in it and an app that never binds a user pays nothing for it. Its definition for the
 * table tools, and a user's entries, page by page.
 */
import type { SessionTable } from '../connection.ts'
import { DynamoSessionError } from '../errors.ts'
import type { AttributeValue } from '../marshall.ts'
import { fromAttribute, type JsonValue } from '../marshall.ts'
import { Expression } from './expressions.ts'

/** The index's name, as the IAM policy names it: `table/<table>/index/user`. */
export const USER_INDEX = 'user'

/** What the index holds of an item besides its keys: what `listSessions()` shows. */
const PROJECTED = ['h', 'device', 'expires']

/** The index's key attributes, as `CreateTable` and `UpdateTable` define them. */
export const USER_INDEX_ATTRIBUTES: { AttributeName: string; AttributeType: string }[] = [
  { AttributeName: 'uid', AttributeType: 'S' },
  { AttributeName: 'created', AttributeType: 'N' },
]

/** The index, as `CreateTable`'s `GlobalSecondaryIndexes` and `UpdateTable`'s `Create` take it. */
export const userIndex = (): Record<string, unknown> => ({
  IndexName: USER_INDEX,
  KeySchema: [
    { AttributeName: 'uid', KeyType: 'HASH' },
    { AttributeName: 'created', KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: PROJECTED },
})

/** An index or attribute definition as `DescribeTable` gives it. */
interface Described {
  IndexName?: string
  IndexStatus?: string
  KeySchema?: { AttributeName: string; KeyType: string }[]
  Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] }
}

/** A table as `DescribeTable` gives it, as far as the user index goes. */
export interface DescribedTable {
  TableStatus?: string
  AttributeDefinitions?: { AttributeName: string; AttributeType: string }[]
  GlobalSecondaryIndexes?: Described[]
  BillingModeSummary?: { BillingMode?: string }
  ProvisionedThroughput?: { ReadCapacityUnits?: number; WriteCapacityUnits?: number }
  StreamSpecification?: { StreamEnabled?: boolean; StreamViewType?: string }
}

/** The user index of a described table, or undefined. */
export const userIndexOf = (t: DescribedTable | undefined): Described | undefined =>
  t?.GlobalSecondaryIndexes?.find((i) => i.IndexName === USER_INDEX)

/**
 * Refuses a table whose index named `user`, or whose definitions of `uid` and `created`, are not
 * the ones sessions need: listing and revoking would fail, or miss sessions.
 */
export function checkUserIndex(table: string, t: DescribedTable | undefined): void {
  const fail = (what: string) => {
    throw new DynamoSessionError(
      'KEY_SCHEMA',
      `table "${table}" ${what}. Use another table name, or delete that index first`,
    )
  }
  for (const { AttributeName, AttributeType } of USER_INDEX_ATTRIBUTES) {
    const type = t?.AttributeDefinitions?.find((a) => a.AttributeName === AttributeName)
    if (type && type.AttributeType !== AttributeType) {
      fail(
        `defines "${AttributeName}" as ${type.AttributeType}; the user index needs it as ${AttributeType}`,
      )
    }
  }
  const index = userIndexOf(t)
  if (!index) return
  const keys = (index.KeySchema ?? []).map((k) => `${k.AttributeName} (${k.KeyType})`).join(' + ')
  if (keys !== 'uid (HASH) + created (RANGE)') {
    fail(
      `has an index "${USER_INDEX}" with the key ${keys}; sessions need uid (HASH) + created (RANGE)`,
    )
  }
  const p = index.Projection
  const missing = PROJECTED.filter((a) => !p?.NonKeyAttributes?.includes(a))
  if (p?.ProjectionType !== 'ALL' && missing.length) {
    fail(`has an index "${USER_INDEX}" that does not project ${missing.join(', ')}`)
  }
}

/** One entry of the index: the item's key and what the list shows. A tombstone has no handle. */
export interface UserEntry {
  /** The stored key of the session's item. */
  key: string
  handle: string | undefined
  /** Epoch seconds. */
  created: number
  /** Epoch seconds. */
  expires: number
  device: JsonValue | undefined
}

const entryOf = (item: Record<string, AttributeValue & { S?: string; N?: string }>): UserEntry => ({
  key: item.id.S as string,
  handle: item.h?.S,
  created: Number(item.created?.N),
  expires: Number(item.expires?.N ?? 0),
  device: item.device && fromAttribute(item.device),
})

/**
 * A user's entries in the index, newest first, a page at a time; with `handle`, only the one
 * with that handle. The index lags the table (usually under a second): it may still show an item
 * that has ended or changed, or not yet show a new one.
 */
export async function* userEntries(
  table: SessionTable,
  userId: string,
  handle?: string,
): AsyncGenerator<UserEntry[]> {
  const x = new Expression()
  const input = {
    TableName: table.name,
    IndexName: USER_INDEX,
    KeyConditionExpression: `${x.path('uid')} = ${x.value({ S: userId })}`,
    ...(handle === undefined
      ? {}
      : { FilterExpression: `${x.path('h')} = ${x.value({ S: handle })}` }),
    ScanIndexForward: false,
    ...x.input,
    ReturnConsumedCapacity: 'TOTAL',
  }
  let start: unknown
  do {
    const page = await table
      .send('Query', start ? { ...input, ExclusiveStartKey: start } : input)
      .catch((error) => missingIndex(table, error))
    yield (page.Items ?? []).map(entryOf)
    start = page.LastEvaluatedKey
  } while (start)
}

/**
 * Throws what refused a Query: INDEX_NOT_FOUND when the table has no user index (DynamoDB says
 * so with a ValidationException, which DescribeTable tells apart from others), else the error.
 */
async function missingIndex(table: SessionTable, error: unknown): Promise<never> {
  if ((error as DynamoSessionError)?.awsType === 'ValidationException') {
    // Without the right to DescribeTable, the Query's own error stands.
    const described = await table.send('DescribeTable', { TableName: table.name }).catch(() => {})
    if (described && !userIndexOf(described.Table)) {
      throw new DynamoSessionError(
        'INDEX_NOT_FOUND',
        `table "${table.name}" has no index "${USER_INDEX}", which listSessions() and revokeSessions() read. Add it (sessions are kept): npx @dynamo-session/hono create-table --table ${table.name}, or createSessionTable()`,
        { cause: error },
      )
    }
  }
  throw error
}
