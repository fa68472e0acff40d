/**
 * @module Table tools: create the session table with TTL and the user index, and sweep expired
 * items where TTL deletion is missing or slow; the connection every table tool makes.
 */
import { createClient, type RetryOptions, regionEndpoint, type Send, sleep } from './client.ts'
import { type ConnectionOptions, type EnvRecord, resolveConnection } from './connection.ts'
import { DynamoSessionError } from './errors.ts'
import type { TableRouter } from './options.ts'
import { checkToolOptions, DEFAULTS, type ToolOption } from './settings.ts'
import {
  checkUserIndex,
  type DescribedTable,
  USER_INDEX,
  USER_INDEX_ATTRIBUTES,
  userIndex,
  userIndexOf,
} from './store/user-index.ts'

/** Options of `createSessionTable` and `sweepExpiredSessions`: connection and retries. */
export interface TableToolOptions extends ConnectionOptions {
  /** @default { attempts: 4, timeoutMs: 3000, budgetMs: 10000 } */
  retry?: Partial<RetryOptions>
  /** Where unset options are read from. @default process.env where there is one */
  env?: EnvRecord
}

/** A table tool's connection: with the user tools, `table` may be `globalTable()`'s. */
export type ToolConnection = Omit<TableToolOptions, 'table'> & { table?: string | TableRouter }

/** Options of `createSessionTable`. */
export interface CreateTableOptions extends TableToolOptions {
  /**
   * The regions of a global table, the first one creating it: against AWS's endpoints, the
   * table gets a stream (new and old images) and a replica in each other region (`UpdateTable`
   * with `ReplicaUpdates`, one at a time); against any other endpoint (DynamoDB Local, the test
   * harness), a table of its own in each region.
   */
  regions?: readonly string[]
}

/** What a sweep did: items the Scan read, expired items deleted, and expired items kept. */
export interface SweepCounts {
  /** Items the Scan read, expired or not. */
  scanned: number
  /** Expired items this sweep deleted. */
  deleted: number
  /** Items the Scan found expired but that were not deleted: extended meanwhile, or already gone. */
  kept: number
}

/** Options of `sweepExpiredSessions`. */
export interface SweepOptions extends TableToolOptions {
  /** Called with the counts so far each time one of them changes. */
  onProgress?: (counts: SweepCounts) => void
  /** Items whose `expires` is before this time (epoch seconds, not milliseconds) are deleted. @default now */
  now?: number
}

/** Conditional deletes a sweep keeps in flight at once. */
export const DELETE_CONCURRENCY = 8

const EXPIRES = 'expires'

/**
 * The connection of a table tool, its options checked first (INVALID_OPTIONS), with the tool's
 * own options (`extra`) besides the connection's.
 */
export function connect(
  tool: string,
  options: ToolConnection,
  extra: readonly ToolOption[] = [],
): { send: Send; table: string; endpoint: string } {
  const env =
    options?.env ??
    ((globalThis as { process?: { env?: EnvRecord } }).process?.env as EnvRecord | undefined) ??
    {}
  // A global table (the user tools): its name, and `region` (else its first) for the calls.
  const router = typeof options?.table === 'object' ? options.table : undefined
  const plain = router ? { ...options, table: router.name } : (options as TableToolOptions)
  checkToolOptions(tool, plain, env, extra)
  const conn = resolveConnection(
    { ...plain, region: plain.region ?? router?.conn.region },
    plain.credentials,
    env,
  )
  const retry = { ...DEFAULTS.retry, ...options.retry }
  return {
    send: router
      ? router.tool(conn.region, (at) => createClient({ ...conn, ...at, retry }))
      : createClient({ ...conn, retry }),
    table: conn.table,
    endpoint: conn.endpoint,
  }
}

/** Refuses a table whose key is not `id` (S) alone: every session write would fail. */
function checkKeySchema(
  table: string,
  // biome-ignore lint/suspicious/noExplicitAny: DescribeTable's JSON
  description: any,
): void {
  const keys = description?.KeySchema ?? []
  const type = description?.AttributeDefinitions?.find(
    (a: { AttributeName: string }) => a.AttributeName === 'id',
  )?.AttributeType
  if (keys.length !== 1 || keys[0].AttributeName !== 'id' || type !== 'S') {
    const types = Object.fromEntries(
      (description?.AttributeDefinitions ?? []).map(
        (a: { AttributeName: string; AttributeType: string }) => [a.AttributeName, a.AttributeType],
      ),
    )
    const schema = keys
      .map(
        (k: { AttributeName: string; KeyType: string }) =>
          `${k.AttributeName} (${types[k.AttributeName]}, ${k.KeyType})`,
      )
      .join(' + ')
    throw new DynamoSessionError(
      'KEY_SCHEMA',
      `table "${table}" exists with the key ${schema}; sessions need the key id (S, HASH) alone. Use another table name, or delete this table first`,
    )
  }
}

/** What `createSessionTable()` did. */
export interface CreatedTable {
  /** The table's name. */
  table: string
  /** True when this call created the table; false when it existed. */
  created: boolean
  /** True when this call added the user index to an existing table. */
  indexAdded: boolean
  /** With `regions`: the regions this call added a replica in (against AWS). */
  replicasAdded?: string[]
}

/** How long `createSessionTable()` waits for a new user index to be built: 30 minutes. */
const INDEX_POLLS = 1800

/** Polls DescribeTable until `ready` says so; `what` names what is awaited in the error. */
async function waitFor(
  send: Send,
  table: string,
  ready: (t: DescribedTable | undefined) => boolean,
  what: string,
  polls: number,
  ms: number,
): Promise<DescribedTable | undefined> {
  for (let attempt = 0; ; attempt++) {
    const { Table } = await send('DescribeTable', { TableName: table })
    if (ready(Table)) return Table
    if (attempt >= polls) {
      throw new DynamoSessionError(
        'UNAVAILABLE',
        `${what} did not become ACTIVE in ${Math.round((polls * ms) / 1000)} s; run create-table again to keep waiting`,
      )
    }
    await sleep(ms)
  }
}

/** Turns TTL on for `expires`, unless it is on; refuses a table whose TTL is on another attribute. */
async function enableTtl(send: Send, table: string): Promise<void> {
  const ttl = (await send('DescribeTimeToLive', { TableName: table })).TimeToLiveDescription
  const on = /^ENABL/.test(ttl?.TimeToLiveStatus ?? '')
  if (on && ttl.AttributeName !== EXPIRES) {
    throw new DynamoSessionError(
      'KEY_SCHEMA',
      `table "${table}" has TTL on the attribute "${ttl.AttributeName}"; sessions need it on "${EXPIRES}" (a table has one TTL attribute). Use another table name, or turn that TTL off first`,
    )
  }
  if (on) return
  try {
    await send('UpdateTimeToLive', {
      TableName: table,
      TimeToLiveSpecification: { AttributeName: EXPIRES, Enabled: true },
    })
  } catch (error) {
    // Another process enabled it since DescribeTimeToLive: a ValidationException says so.
    if (!(error instanceof DynamoSessionError) || !/already enabled/i.test(error.message))
      throw error
  }
}

/**
 * Adds the user index to an existing table (with the table's own capacity, if it is
 * provisioned). Returns false when another process added it meanwhile.
 */
async function addUserIndex(send: Send, table: string, t: DescribedTable): Promise<boolean> {
  const { ReadCapacityUnits, WriteCapacityUnits } = t.ProvisionedThroughput ?? {}
  try {
    await send('UpdateTable', {
      TableName: table,
      AttributeDefinitions: USER_INDEX_ATTRIBUTES,
      GlobalSecondaryIndexUpdates: [
        {
          Create: {
            ...userIndex(),
            ...(ReadCapacityUnits
              ? { ProvisionedThroughput: { ReadCapacityUnits, WriteCapacityUnits } }
              : {}),
          },
        },
      ],
    })
    return true
  } catch (error) {
    const { Table } = await send('DescribeTable', { TableName: table })
    if (userIndexOf(Table)) return false
    throw error
  }
}

/**
 * Creates the session table (on-demand billing, string hash key `id`) with the user index (a
 * sparse global secondary index on `uid`, sorted by `created`, for `listSessions()` and
 * `revokeSessions()`), and enables TTL on `expires`. Idempotent: an existing table is fine when
 * its key is `id` (S) alone and its TTL, if any, is on `expires`; otherwise it fails with
 * KEY_SCHEMA saying what differs. An existing table without the user index gets it (waiting,
 * up to 30 minutes, while DynamoDB builds it from the items already there).
 *
 * With `regions`, a global table for `globalTable()`: see `CreateTableOptions.regions`.
 *
 * @param options table (SESSION_TABLE, 'sessions'), region, endpoint, credentials, fetch, retry,
 *   env, and `regions` for a global table
 * @returns the table's name, whether this call created it, whether it added the user index, and
 *   the replicas it added
 * @example
 * ```ts
 * await createSessionTable({ table: 'sessions', region: 'eu-west-1' })
 * await createSessionTable({ table: 'sessions', regions: ['us-east-1', 'eu-west-1'] })
 * ```
 */
export async function createSessionTable(options: CreateTableOptions = {}): Promise<CreatedTable> {
  if (options?.regions !== undefined) return createGlobalSessionTable(options)
  const { send, table } = connect('createSessionTable', options)
  let created = true
  try {
    await send('CreateTable', {
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }, ...USER_INDEX_ATTRIBUTES],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [userIndex()],
      BillingMode: 'PAY_PER_REQUEST',
    })
  } catch (error) {
    if (!(error instanceof DynamoSessionError) || error.awsType !== 'ResourceInUseException') {
      throw error
    }
    created = false
  }
  const described = await waitFor(
    send,
    table,
    (t) => {
      if (!created) {
        checkKeySchema(table, t)
        checkUserIndex(table, t)
      }
      return t?.TableStatus === 'ACTIVE'
    },
    `table ${table}`,
    120,
    500,
  )
  await enableTtl(send, table)
  const index = userIndexOf(described)
  const indexAdded = !index && (await addUserIndex(send, table, described ?? {}))
  if (index?.IndexStatus === 'ACTIVE') return { created, table, indexAdded }
  await waitFor(
    send,
    table,
    (t) => t?.TableStatus === 'ACTIVE' && userIndexOf(t)?.IndexStatus === 'ACTIVE',
    `the index "${USER_INDEX}" of table ${table}`,
    INDEX_POLLS,
    1000,
  )
  return { created, table, indexAdded }
}

/** How long a new replica may take to become ACTIVE: 60 minutes (AWS copies the items). */
const REPLICA_POLLS = 1800

/** The replicas a described table has, by region, with their status. */
type Replicas = { Replicas?: { RegionName: string; ReplicaStatus?: string }[] }

/** `createSessionTable({ regions })`: the table in the first region, then the others. */
async function createGlobalSessionTable(options: CreateTableOptions): Promise<CreatedTable> {
  const { regions, ...single } = options
  const first = regions?.[0] as string
  const { send, table, endpoint } = connect('createSessionTable', { ...options, region: first }, [
    'regions',
  ])
  const created = await createSessionTable({ ...single, region: first })
  if (endpoint !== regionEndpoint(first)) {
    // Not AWS: no replication to set up; each region gets a table of its own.
    for (const region of (regions ?? []).slice(1)) {
      await createSessionTable({ ...single, region })
    }
    return created
  }
  const ready = (t: (DescribedTable & Replicas) | undefined) =>
    t?.TableStatus === 'ACTIVE' && (t.Replicas ?? []).every((r) => r.ReplicaStatus === 'ACTIVE')
  let t = (await send('DescribeTable', { TableName: table })).Table
  if (t?.StreamSpecification?.StreamViewType !== 'NEW_AND_OLD_IMAGES') {
    await send('UpdateTable', {
      TableName: table,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    })
    t = await waitFor(send, table, ready, `table ${table}`, 120, 1000)
  }
  const replicasAdded: string[] = []
  for (const region of (regions ?? []).slice(1)) {
    if ((t as Replicas)?.Replicas?.some((r) => r.RegionName === region)) continue
    // One replica per UpdateTable: DynamoDB refuses more at once.
    await send('UpdateTable', {
      TableName: table,
      ReplicaUpdates: [{ Create: { RegionName: region } }],
    })
    replicasAdded.push(region)
    t = await waitFor(
      send,
      table,
      ready,
      `the replica of ${table} in ${region}`,
      REPLICA_POLLS,
      2000,
    )
  }
  return { ...created, replicasAdded }
}

/**
 * Deletes expired sessions (tombstones included): a Scan filtered on `expires`, page by page,
 * then one conditional DeleteItem per item, a few in parallel. Each delete applies only if the
 * item is still expired, so a session a request extended after the Scan is kept, not lost.
 * For DynamoDB Local and tables where AWS's TTL deletion lags.
 *
 * @param options connection options as `createSessionTable`'s, `now` (epoch seconds, default
 *   the current time) and `onProgress`
 * @returns the counts: items scanned, deleted, and kept because they were extended meanwhile
 * @example
 * ```ts
 * const { deleted } = await sweepExpiredSessions({ table: 'sessions' })
 * ```
 */
export async function sweepExpiredSessions(options: SweepOptions = {}): Promise<SweepCounts> {
  const { send, table } = connect('sweepExpiredSessions', options, ['now', 'onProgress'])
  const expired = {
    ExpressionAttributeNames: { '#e': EXPIRES },
    ExpressionAttributeValues: {
      ':now': { N: String(options.now ?? Math.floor(Date.now() / 1000)) },
    },
  }
  const counts: SweepCounts = { scanned: 0, deleted: 0, kept: 0 }
  const report = () => options.onProgress?.({ ...counts })
  let start: Record<string, unknown> | undefined
  do {
    const page = await send('Scan', {
      TableName: table,
      ProjectionExpression: 'id',
      FilterExpression: '#e < :now',
      ...expired,
      ...(start ? { ExclusiveStartKey: start } : {}),
    })
    counts.scanned += page.ScannedCount ?? 0
    report()
    const keys: Record<string, unknown>[] = page.Items ?? []
    let next = 0
    let failure: { error: unknown } | undefined
    const worker = async () => {
      while (next < keys.length && !failure) {
        const Key = keys[next++]
        try {
          await send('DeleteItem', {
            TableName: table,
            Key,
            ConditionExpression: '#e < :now',
            ...expired,
          })
          counts.deleted++
        } catch (error) {
          if ((error as DynamoSessionError)?.code !== 'CONDITION_FAILED') {
            failure ??= { error }
            return
          }
          counts.kept++
        }
        report()
      }
    }
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, keys.length) }, worker))
    if (failure) throw failure.error
    start = page.LastEvaluatedKey
  } while (start)
  return counts
}
