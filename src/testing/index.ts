/**
 * @module An in-memory DynamoDB behind a `fetch`, for testing apps that use
 * `@dynamo-session/hono` without Java, Docker or a network: `bun test`, `deno test` and
 * `node --test` alike. It speaks DynamoDB's JSON API (the operations, expressions and errors the
 * library sends) and answers as DynamoDB Local does, validation errors included.
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
import { type AttributeValue, clone, type Item } from './values.ts'

export type { AttributeValue, Item }

/** A table of the in-memory DynamoDB, for assertions in tests. */
export interface MemoryTable {
  readonly name: string
  /** The key attributes, hash key first. */
  readonly keySchema: readonly { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[]
  /** The TTL attribute, when TTL is enabled. */
  readonly ttlAttribute: string | undefined
  /** A copy of every item. */
  readonly items: Item[]
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
/**
 * Creates an in-memory DynamoDB and the `fetch` that reaches it. Tables live as long as the
 * returned object; pass its `fetch` as the `fetch` option of `dynamoSession()`,
 * `createSessionTable()` and `sweepExpiredSessions()` (any region, endpoint and credentials).
 *
 * @returns `{ fetch, tables, reset }`
 * @example
 * ```ts
 * const db = memoryDynamoDB()
 * await createSessionTable({ table: 'sessions', region: 'local', endpoint: 'http://db.test',
 *   credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, fetch: db.fetch })
 * ```
 */
export function memoryDynamoDB(): MemoryDynamoDB {
  const tables = new Map<string, Table>()
  const db: Database = { tables }

  const memoryFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    request.signal.throwIfAborted()
    return handle(db, request)
  }

  const view = new Map<string, MemoryTable>()
  const refresh = () => {
    view.clear()
    for (const t of tables.values()) {
      view.set(t.name, {
        name: t.name,
        keySchema: t.keySchema,
        get ttlAttribute() {
          return t.ttl
        },
        get items() {
          return [...t.items.values()].map(clone)
        },
      })
    }
    return view
  }

  return {
    fetch: memoryFetch as typeof fetch,
    get tables() {
      return refresh()
    },
    reset() {
      tables.clear()
    },
  }
}
