// The DynamoDBs a model run talks to, behind the network of tests/model/network.ts: a fresh
// memoryDynamoDB(), or the suite's DynamoDB Local reached through node:http (not fetch: undici's
// own timers would run on the run's virtual clock). Each delivers one request and says whether
// DynamoDB answered. `mutations.ts` can break what is delivered, to prove the model notices.
import { Agent, request } from 'node:http'
import { createSessionTable } from '../../src/index.ts'
import { backend, memoryDynamoDB, testEndpoint } from '../support/backend.ts'
import { type Conn, credentials } from '../support/dynamodb.ts'

/** DynamoDB's answer to one request. */
export interface Answer {
  status: number
  text: string
}

export interface Backend {
  name: 'memory' | 'dynamodb-local'
  /** Delivers a request as the library signed it. */
  deliver(headers: Record<string, string>, body: string): Promise<Answer>
  /** A new, empty session table: one per run, as a run's ids repeat when its seed does. */
  table(): Promise<Conn>
  /** Deletes a table `table()` made. */
  drop(conn: Conn): Promise<void>
}

/** The headers of a DynamoDB call made outside the library (DynamoDB does not check them). */
export const rawHeaders = (op: string): Record<string, string> => ({
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': `DynamoDB_20120810.${op}`,
  authorization:
    'AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
})

/** A fetch over `deliver`, for the library's table tools. */
const fetchOver =
  (deliver: Backend['deliver']): typeof fetch =>
  async (_input, init) => {
    const answer = await deliver(
      Object.fromEntries(new Headers(init?.headers).entries()),
      String(init?.body ?? ''),
    )
    return new Response(answer.text, { status: answer.status })
  }

const MEMORY_ENDPOINT = 'http://model.memory.test'
let tables = 0
const tableName = (prefix: string) =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${tables++}`

/** A memoryDynamoDB() of its own. */
export function memoryBackend(): Backend {
  const db = memoryDynamoDB()
  const conn = (table: string) => ({
    table,
    region: 'us-east-1',
    endpoint: MEMORY_ENDPOINT,
    credentials,
  })
  return {
    name: 'memory',
    async deliver(headers, body) {
      const res = await db.fetch(MEMORY_ENDPOINT, { method: 'POST', headers, body })
      return { status: res.status, text: await res.text() }
    },
    async table() {
      const c = conn(tableName('model'))
      await createSessionTable({ ...c, fetch: db.fetch })
      return c
    },
    async drop(c) {
      await this.deliver(rawHeaders('DeleteTable'), JSON.stringify({ TableName: c.table }))
    },
  }
}

/** The DynamoDB Local at `endpoint`. */
export function localBackend(endpoint: string): Backend {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 })
  const backend: Backend = {
    name: 'dynamodb-local',
    deliver: (headers, body) =>
      new Promise((resolve, reject) => {
        const req = request(endpoint, { method: 'POST', headers, agent }, (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk) => {
            text += chunk
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
          res.on('error', reject)
        })
        req.on('error', reject)
        req.end(body)
      }),
    async table() {
      const c = { table: tableName('model'), region: 'us-east-1', endpoint, credentials }
      await createSessionTable({ ...c, fetch: fetchOver(backend.deliver) })
      return c
    },
    async drop(c) {
      await backend.deliver(rawHeaders('DeleteTable'), JSON.stringify({ TableName: c.table }))
    },
  }
  return backend
}

/**
 * The backends a test runs the model on: memoryDynamoDB() always, and the suite's DynamoDB Local
 * unless the suite runs on memory (TEST_DYNAMODB=memory), through tests/support/backend.ts.
 */
export function backends(): Backend[] {
  return backend === 'memory' ? [memoryBackend()] : [memoryBackend(), localBackend(testEndpoint())]
}
