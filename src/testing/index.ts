/**
 * @module An in-memory DynamoDB behind a `fetch`, for testing apps that use
 * `@dynamo-session/hono` without Java, Docker or a network: `bun test`, `deno test` and
 * `node --test` alike. It speaks DynamoDB's JSON API (the operations, expressions and errors the
 * library sends, global secondary indexes and Query included) and answers as DynamoDB Local
 * does, validation errors included.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { dynamoSession, createSessionTable } from '@dynamo-session/hono'
 * import { memoryDynamoDB } from '@dynamo-session/hono/testing'
 *
 * const { fetch } = memoryDynamoDB()
 * const conn = { table: 'sessions', region: 'local', endpoint: 'http://dynamodb.test',
 *   credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, fetch }
 * await createSessionTable(conn)
 * const app = new Hono().use(dynamoSession({ ...conn, secret: 'a-long-test-secret-0123456789abcdef' }))
 * ```
 */
import type { Database, Table } from './database.ts'
import { handle } from './dispatch.ts'
import {
  checkRegions,
  type MemoryGlobalDynamoDB,
  type MemoryRegion,
  memoryRegions,
  type RegionOutage,
} from './regions.ts'
import { checkLag } from './replication.ts'
import type { AttributeValue, Item } from './values.ts'
import { type MemoryIndex, type MemoryTable, viewsOf } from './views.ts'

export type {
  AttributeValue,
  Item,
  MemoryGlobalDynamoDB,
  MemoryIndex,
  MemoryRegion,
  MemoryTable,
  RegionOutage,
}

/** What `memoryDynamoDB()` returns. */
export interface MemoryDynamoDB {
  /** A `fetch` that answers DynamoDB JSON API calls from memory, for any region and endpoint. */
  fetch: typeof fetch
  /** The tables by name. */
  readonly tables: ReadonlyMap<string, MemoryTable>
  /** Deletes every table. */
  reset(): void
}

/** Options of `memoryDynamoDB()`. */
export interface MemoryDynamoDBOptions {
  /**
   * How long, in ms, a write takes to reach the table's global secondary indexes, as DynamoDB's
   * indexes are eventually consistent: the table shows a write at once, a Query on an index
   * `indexLagMs` later, writes arriving in the order they were made. An index added by
   * UpdateTable is `CREATING` for as long. Default 0: indexes follow every write at once.
   */
  indexLagMs?: number
}

/**
 * Options of `memoryDynamoDB()` in its multi-region mode, a DynamoDB global table.
 * @example
 * ```ts
 * memoryDynamoDB({ regions: ['us-east-1', 'eu-west-1'], replicationLagMs: 1000 })
 * ```
 */
export interface MemoryGlobalDynamoDBOptions extends MemoryDynamoDBOptions {
  /** The regions, one in-memory database each, such as `['us-east-1', 'eu-west-1']`. */
  regions: readonly string[]
  /**
   * How long, in ms, a write made in one region takes to reach the others. Default 0: a write
   * is in every region before the next request to it.
   */
  replicationLagMs?: number
}

/**
 * Creates an in-memory DynamoDB and the `fetch` that reaches it. Tables live as long as the
 * returned object; pass its `fetch` as the `fetch` option of `dynamoSession()`,
 * `createSessionTable()`, `sweepExpiredSessions()` and the per-user session functions (any
 * region, endpoint and credentials).
 *
 * With `regions`, it is a DynamoDB global table instead: one database per region, each request
 * served by the region it is signed for (the library signs every call with its `region`), every
 * write reaching the other regions `replicationLagMs` later, concurrent writes to one item
 * settled last-writer-wins, conditions and consistent reads seeing only their region's copy.
 * `region(name)` gives a region's `fetch`, `tables`, `calls`, `down()`, `up()` and `expire()`;
 * `settle()` delivers every pending change; `setLag(ms)` changes the lag.
 *
 * @param options `indexLagMs` (default 0): how long writes take to reach global secondary
 * indexes; `regions` and `replicationLagMs` (default 0): the multi-region mode.
 * @returns `{ fetch, tables, reset }`; with `regions`, `{ fetch, regions, region, settle,
 * setLag, reset }`
 * @example
 * ```ts
 * const db = memoryDynamoDB({ indexLagMs: 50 })
 * await createSessionTable({ table: 'sessions', region: 'local', endpoint: 'http://db.test',
 *   credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, fetch: db.fetch })
 * db.tables.get('sessions')?.indexes // its indexes' entries, 50 ms behind its items
 * ```
 * @example
 * ```ts
 * const db = memoryDynamoDB({ regions: ['us-east-1', 'eu-west-1'], replicationLagMs: 1000 })
 * const conn = { table: 'sessions', endpoint: 'http://db.test', fetch: db.fetch,
 *   credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }
 * await createSessionTable({ ...conn, region: 'us-east-1' }) // a replica in every region
 * // ... a session written through dynamoSession({ ...conn, region: 'us-east-1' }) is in
 * // us-east-1 at once, in eu-west-1 a second later, or as soon as:
 * await db.settle()
 * db.region('eu-west-1').down() // its requests are refused until db.region('eu-west-1').up()
 * ```
 */
export function memoryDynamoDB(options: MemoryGlobalDynamoDBOptions): MemoryGlobalDynamoDB
export function memoryDynamoDB(options?: MemoryDynamoDBOptions): MemoryDynamoDB
export function memoryDynamoDB(
  options: MemoryDynamoDBOptions | MemoryGlobalDynamoDBOptions = {},
): MemoryDynamoDB | MemoryGlobalDynamoDB {
  const indexLagMs = checkLag('memoryDynamoDB(): indexLagMs', options.indexLagMs ?? 0)
  const global = options as Partial<MemoryGlobalDynamoDBOptions>
  if (global.regions !== undefined) {
    const regions = checkRegions(global.regions)
    const lag = checkLag('memoryDynamoDB(): replicationLagMs', global.replicationLagMs ?? 0)
    return memoryRegions(regions, indexLagMs, lag)
  }
  if (global.replicationLagMs !== undefined) {
    throw new RangeError(
      "memoryDynamoDB(): replicationLagMs needs regions, such as regions: ['us-east-1', 'eu-west-1']",
    )
  }
  const tables = new Map<string, Table>()
  const db: Database = { tables, indexLagMs }

  const memoryFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    request.signal.throwIfAborted()
    return handle(db, request)
  }

  return {
    fetch: memoryFetch as typeof fetch,
    get tables() {
      return viewsOf(tables)
    },
    reset() {
      tables.clear()
    },
  }
}
