// Shared test helpers: a fresh table on the DynamoDB Local that `npm test` started, a fetch that
// counts DynamoDB calls by operation, and cookie handling for app.request().
import { createSessionTable } from '../src/index.ts'
import { testEndpoint } from './env.ts'

export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
export const SECRET = 'a-test-secret-that-is-long-enough-0123456789'

let counter = 0

/** Connection options for a new, empty session table with a unique name. */
export async function freshTable(prefix = 't') {
  const table = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${counter++}`
  const conn = { table, region: 'us-east-1', endpoint: testEndpoint(), credentials }
  await createSessionTable(conn)
  return conn
}

/** A DynamoDB call as a counting fetch saw it. */
export interface Call {
  op: string
  // biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
  body: any
}

/** A fetch that records every DynamoDB operation it forwards. */
export function countingFetch(inner: typeof fetch = (i, n) => fetch(i, n)) {
  const calls: Call[] = []
  const counted: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    const op = (request.headers.get('x-amz-target') ?? '').split('.').pop() ?? ''
    const text = await request.clone().text()
    calls.push({ op, body: text ? JSON.parse(text) : undefined })
    return inner(request)
  }
  return {
    fetch: counted,
    calls,
    ops: () => calls.map((c) => c.op),
    reset: () => {
      calls.length = 0
    },
  }
}

/** The Set-Cookie headers of a response. */
export const setCookies = (res: Response): string[] => res.headers.getSetCookie()

/** `name=value` of the first Set-Cookie, ready for a Cookie header. */
export function cookieOf(res: Response): string {
  const header = setCookies(res)[0]
  if (!header) throw new Error(`no Set-Cookie on a ${res.status} response`)
  return header.split(';')[0]
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

/** Every item of a table, raw. */
export async function scanAll(table: string) {
  const out = await ddb('Scan', { TableName: table, ConsistentRead: true })
  // biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
  return out.Items as any[]
}

/**
 * An expression of a recorded request with its aliases spelled out: `#0.#1` becomes
 * `data.cart`, every value alias becomes `:`, so tests read what was sent, not how it was aliased.
 */
// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
export function spelled(body: any, expression: string): string {
  const names: Record<string, string> = body?.ExpressionAttributeNames ?? {}
  return String(body?.[expression] ?? '')
    .replace(/#\w+/g, (alias) => names[alias] ?? alias)
    .replace(/:\w+/g, ':')
}
