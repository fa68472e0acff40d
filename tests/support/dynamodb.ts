// The suite's DynamoDB, reached without the library: a fresh table per test, raw calls signed
// with a dummy signature (neither DynamoDB Local nor memoryDynamoDB() checks it), and the stored
// item a cookie names.
import { createSessionTable } from '../../src/index.ts'
import { testEndpoint } from './backend.ts'
import { keyOf } from './cookies.ts'

export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
export const SECRET = 'a-test-secret-that-is-long-enough-0123456789'

/** The connection options of one session table on the suite's DynamoDB. */
export interface Conn {
  table: string
  region: string
  endpoint: string
  credentials: typeof credentials
}

// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
export type Item = Record<string, any>

let counter = 0

/** Connection options for a new, empty session table with a unique name. */
export async function freshTable(prefix = 't'): Promise<Conn> {
  const table = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${counter++}`
  const conn = { table, region: 'us-east-1', endpoint: testEndpoint(), credentials }
  await createSessionTable(conn)
  return conn
}

/** Low-level DynamoDB call against the test endpoint (no library code involved). */
// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
export async function ddb(op: string, body: Record<string, unknown>): Promise<any> {
  const res = await fetch(testEndpoint(), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${op}`,
      authorization:
        'AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
    },
    body: JSON.stringify(body),
  })
  const json = await res.json()
  if (!res.ok) throw new Error(`${op}: ${JSON.stringify(json)}`)
  return json
}

/** Every item of a table, raw, page after page. */
export async function scanAll(table: string): Promise<Item[]> {
  const items: Item[] = []
  let start: unknown
  do {
    const page = await ddb('Scan', {
      TableName: table,
      ConsistentRead: true,
      ...(start ? { ExclusiveStartKey: start } : {}),
    })
    items.push(...page.Items)
    start = page.LastEvaluatedKey
  } while (start)
  return items
}

/** The raw item of the session a cookie names (undefined when none), lease and tombstone included. */
// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON, or undefined
export async function rawItem(conn: Pick<Conn, 'table'>, cookie: string): Promise<any> {
  const out = await ddb('GetItem', {
    TableName: conn.table,
    Key: { id: { S: await keyOf(cookie) } },
    ConsistentRead: true,
  })
  return out.Item
}

/** Sets attributes of the stored item directly, e.g. to age or break it. */
export async function patchItem(
  conn: Pick<Conn, 'table'>,
  cookie: string,
  expression: string,
  values: Item = {},
  names: Record<string, string> = {},
): Promise<void> {
  await ddb('UpdateItem', {
    TableName: conn.table,
    Key: { id: { S: await keyOf(cookie) } },
    UpdateExpression: expression,
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
    ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
  })
}

/** Items of the table that hold a live session (not tombstones). */
export const live = (items: Item[]): Item[] => items.filter((i) => i.data && !i.end)
