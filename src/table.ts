/**
 * @module Table tools: create the session table with TTL, and sweep expired items where TTL
 * deletion is missing (DynamoDB Local) or slow.
 */
import { backoff, createClient, type RetryOptions, type Send, sleep } from './client.ts'
import { DynamoSessionError } from './errors.ts'
import { type ConnectionOptions, type EnvRecord, resolveConnection } from './options.ts'

/** Options of `createSessionTable` and `sweepExpiredSessions`: connection and retries. */
export interface TableToolOptions extends ConnectionOptions {
  /** @default { attempts: 4, timeoutMs: 3000, budgetMs: 10000 } */
  retry?: Partial<RetryOptions>
  /** Where unset options are read from. @default process.env where there is one */
  env?: EnvRecord
}

/** Options of `sweepExpiredSessions`. */
export interface SweepOptions extends TableToolOptions {
  /** Called after each page with the counts so far. */
  onProgress?: (progress: { scanned: number; deleted: number }) => void
  /** Items with `expires` before this epoch second are deleted. @default now */
  now?: number
}

function connect(options: TableToolOptions): { send: Send; table: string } {
  const env =
    options.env ??
    ((globalThis as { process?: { env?: EnvRecord } }).process?.env as EnvRecord | undefined) ??
    {}
  const conn = resolveConnection(options, options.credentials, env)
  const send = createClient({
    ...conn,
    retry: { attempts: 4, timeoutMs: 3000, budgetMs: 10000, ...options.retry },
  })
  return { send, table: conn.table }
}

/**
 * Creates the session table (on-demand billing, string hash key `id`) and enables TTL on
 * `expires`. Idempotent: an existing table is fine.
 *
 * @param options table (SESSION_TABLE, 'sessions'), region, endpoint, credentials, fetch
 * @returns whether the table was created by this call
 * @example
 * ```ts
 * await createSessionTable({ table: 'sessions', region: 'eu-west-1' })
 * ```
 */
export async function createSessionTable(
  options: TableToolOptions = {},
): Promise<{ created: boolean; table: string }> {
  const { send, table } = connect(options)
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
    if (Table?.TableStatus === 'ACTIVE') break
    if (attempt > 120) {
      throw new DynamoSessionError('UNAVAILABLE', `table ${table} did not become ACTIVE`)
    }
    await sleep(500)
  }
  try {
    await send('UpdateTimeToLive', {
      TableName: table,
      TimeToLiveSpecification: { AttributeName: 'expires', Enabled: true },
    })
  } catch (error) {
    // Enabling TTL twice is refused with a ValidationException; the first call did the job.
    if (!(error instanceof DynamoSessionError) || !/already enabled/i.test(error.message))
      throw error
  }
  return { created, table }
}

/**
 * Deletes expired sessions: a Scan filtered on `expires`, page by page, and BatchWriteItem in
 * groups of 25, retrying unprocessed items. For DynamoDB Local and other stores without TTL.
 *
 * @param options connection options, `now` (epoch seconds) and `onProgress`
 * @returns the number of items deleted
 * @example
 * ```ts
 * const deleted = await sweepExpiredSessions({ table: 'sessions' })
 * ```
 */
export async function sweepExpiredSessions(options: SweepOptions = {}): Promise<number> {
  const { send, table } = connect(options)
  const now = options.now ?? Math.floor(Date.now() / 1000)
  let scanned = 0
  let deleted = 0
  let start: Record<string, unknown> | undefined
  do {
    const page = await send('Scan', {
      TableName: table,
      ProjectionExpression: 'id',
      FilterExpression: '#e < :now',
      ExpressionAttributeNames: { '#e': 'expires' },
      ExpressionAttributeValues: { ':now': { N: String(now) } },
      ...(start ? { ExclusiveStartKey: start } : {}),
    })
    scanned += page.ScannedCount ?? 0
    const keys: Record<string, unknown>[] = page.Items ?? []
    for (let i = 0; i < keys.length; i += 25) {
      let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }))
      for (let attempt = 1; requests.length > 0; attempt++) {
        const out = await send('BatchWriteItem', { RequestItems: { [table]: requests } })
        const left = out.UnprocessedItems?.[table] ?? []
        deleted += requests.length - left.length
        requests = left
        if (requests.length > 0) {
          if (attempt >= 10) {
            throw new DynamoSessionError(
              'THROTTLED',
              `${requests.length} deletes stayed unprocessed after ${attempt} attempts`,
            )
          }
          await sleep(backoff(attempt))
        }
      }
    }
    start = page.LastEvaluatedKey
    options.onProgress?.({ scanned, deleted })
  } while (start)
  return deleted
}
