/**
 * @module Table tools: create the session table with TTL, and sweep expired items where TTL
 * deletion is missing or slow.
 */
import { createClient, type RetryOptions, sleep } from './client.ts'
import { type ConnectionOptions, type EnvRecord, resolveConnection } from './connection.ts'
import { DynamoSessionError } from './errors.ts'
import { checkToolOptions, DEFAULTS } from './settings.ts'

/** Options of `createSessionTable` and `sweepExpiredSessions`: connection and retries. */
export interface TableToolOptions extends ConnectionOptions {
  /** @default { attempts: 4, timeoutMs: 3000, budgetMs: 10000 } */
  retry?: Partial<RetryOptions>
  /** Where unset options are read from. @default process.env where there is one */
  env?: EnvRecord
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

function connect(tool: string, options: TableToolOptions, sweep: boolean) {
  const env =
    options?.env ??
    ((globalThis as { process?: { env?: EnvRecord } }).process?.env as EnvRecord | undefined) ??
    {}
  checkToolOptions(tool, options, env, sweep)
  const conn = resolveConnection(options, options.credentials, env)
  return {
    send: createClient({ ...conn, retry: { ...DEFAULTS.retry, ...options.retry } }),
    table: conn.table,
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

/**
 * Creates the session table (on-demand billing, string hash key `id`) and enables TTL on
 * `expires`. Idempotent: an existing table is fine when its key is `id` (S) alone and its TTL,
 * if any, is on `expires`; otherwise it fails with KEY_SCHEMA saying what differs.
 *
 * @param options table (SESSION_TABLE, 'sessions'), region, endpoint, credentials, fetch, retry, env
 * @returns whether the table was created by this call, and its name
 * @example
 * ```ts
 * await createSessionTable({ table: 'sessions', region: 'eu-west-1' })
 * ```
 */
export async function createSessionTable(
  options: TableToolOptions = {},
): Promise<{ created: boolean; table: string }> {
  const { send, table } = connect('createSessionTable', options, false)
  let created = true
  try {
    await send('CreateTable', {
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    })
  } catch (error) {
    if (!(error instanceof DynamoSessionError) || error.awsType !== 'ResourceInUseException') {
      throw error
    }
    created = false
  }
  for (let attempt = 0; ; attempt++) {
    const { Table } = await send('DescribeTable', { TableName: table })
    if (!created) checkKeySchema(table, Table)
    if (Table?.TableStatus === 'ACTIVE') break
    if (attempt > 120) {
      throw new DynamoSessionError('UNAVAILABLE', `table ${table} did not become ACTIVE`)
    }
    await sleep(500)
  }
  const ttl = (await send('DescribeTimeToLive', { TableName: table })).TimeToLiveDescription
  const on = /^ENABL/.test(ttl?.TimeToLiveStatus ?? '')
  if (on && ttl.AttributeName !== EXPIRES) {
    throw new DynamoSessionError(
      'KEY_SCHEMA',
      `table "${table}" has TTL on the attribute "${ttl.AttributeName}"; sessions need it on "${EXPIRES}" (a table has one TTL attribute). Use another table name, or turn that TTL off first`,
    )
  }
  if (on) return { created, table }
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
  return { created, table }
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
  const { send, table } = connect('sweepExpiredSessions', options, true)
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
