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
import { settle } from './indexes.ts'
import { type AttributeValue, clone, type Item } from './values.ts'

export type { AttributeValue, Item }

/** A global secondary index of a table, for assertions in tests. */
export interface MemoryIndex {
  readonly name: string
  /** The index's key attributes, hash key first. */
  readonly keySchema: readonly { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[]
  /** `CREATING` from UpdateTable until its items are in (after `indexLagMs`), then `ACTIVE`. */
  readonly status: 'CREATING' | 'ACTIVE'
  /** A copy of every entry the index holds now (the projected attributes of each item in it). */
  readonly items: Item[]
}

/** A table of the in-memory DynamoDB, for assertions in tests. */
export interface MemoryTable {
  readonly name: string
  /** The key attributes, hash key first. */
  readonly keySchema: readonly { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[]
  /** The TTL attribute, when TTL is enabled. */
  readonly ttlAttribute: string | undefined
  /** A copy of every item. */
  readonly items: Item[]
  /** The table's global secondary indexes. */
  readonly indexes: readonly MemoryIndex[]
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

function checkOptions(options: MemoryDynamoDBOptions): number {
  const lag = options.indexLagMs ?? 0
  if (typeof lag !== 'number' || !Number.isFinite(lag) || lag < 0) {
    throw new RangeError(
      `memoryDynamoDB(): indexLagMs must be a number of milliseconds, 0 or more, got ${String(lag)}`,
    )
  }
  return lag
}

function viewOf(t: Table): MemoryTable {
  return {
    name: t.name,
    keySchema: t.keySchema,
    get ttlAttribute() {
      return t.ttl
    },
    get items() {
      return [...t.items.values()].map(clone)
    },
    get indexes() {
      settle(t)
      return t.indexes.map((index) => ({
        name: index.name,
        keySchema: index.keySchema,
        status: index.status,
        items: [...index.entries.values()].map(clone),
      }))
    },
  }
}

/**
 * Creates an in-memory DynamoDB and the `fetch` that reaches it. Tables live as long as the
 * returned object; pass its `fetch` as the `fetch` option of `dynamoSession()`,
 * `createSessionTable()`, `sweepExpiredSessions()` and the per-user session functions (any
 * region, endpoint and credentials).
 *
 * @param options `indexLagMs` (default 0): how long writes take to reach global secondary indexes.
 * @returns `{ fetch, tables, reset }`
 * @example
 * ```ts
 * const db = memoryDynamoDB({ indexLagMs: 50 })
 * await createSessionTable({ table: 'sessions', region: 'local', endpoint: 'http://db.test',
 *   credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, fetch: db.fetch })
 * db.tables.get('sessions')?.indexes // its indexes' entries, 50 ms behind its items
 * ```
 */
export function memoryDynamoDB(options: MemoryDynamoDBOptions = {}): MemoryDynamoDB {
  const tables = new Map<string, Table>()
  const db: Database = { tables, indexLagMs: checkOptions(options) }

  const memoryFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    request.signal.throwIfAborted()
    return handle(db, request)
  }

  return {
    fetch: memoryFetch as typeof fetch,
    get tables() {
      return new Map([...tables.values()].map((t) => [t.name, viewOf(t)]))
    },
    reset() {
      tables.clear()
    },
  }
}
