// `@architect/functions` sessions (`arc.http.session.read` / `write`) on DynamoDB, for the
// benchmarks. Architect finds its table and DynamoDB through its Sandbox: `ARC_SANDBOX` names the
// ports, an SSM parameter lookup maps the logical table `sessions` to a physical one, and
// `@aws-lite/client` (SigV4 by `aws4`, node:http) sends the calls. All of that is cached for the
// life of the process, so one sandbox serves every benchmark of a process: a proxy on a fixed
// loopback port (bench/proxy.ts) that answers the SSM lookup and forwards DynamoDB calls to
// DynamoDB Local, or, for the CPU benchmark, an in-process fake that answers at once, as the
// fake `fetch` does for the others.
import { EventEmitter } from 'node:events'
import http from 'node:http'
import { createRequire } from 'node:module'
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { Hono } from 'hono'
import { credentials, SECRET } from './lib.ts'
import { type DynamoProxy, startProxy } from './proxy.ts'

const require = createRequire(import.meta.url)

/** The physical table every Architect session of this process lives in. */
const TABLE = `bench-arc-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`

interface Sandbox {
  proxy: DynamoProxy
  /** True while calls are answered by the in-process fake instead of the proxy. */
  fake: boolean
  endpoint?: string
  // biome-ignore lint/suspicious/noExplicitAny: Architect ships no types for http.session
  session: { read(req: object): Promise<any>; write(session: object): Promise<string> }
}

let sandbox: Promise<Sandbox> | undefined

/** The fake DynamoDB of the CPU benchmark, in aws-lite's terms: PutItem keeps, GetItem returns. */
function fakeAnswer(target: string, body: string, ssm: unknown): string {
  if (target.startsWith('AmazonSSM.')) return JSON.stringify({ Parameters: ssm })
  const op = target.slice(target.indexOf('.') + 1)
  if (op === 'PutItem') {
    fakeItem = JSON.stringify({ Item: JSON.parse(body).Item })
    return '{}'
  }
  if (op === 'GetItem') return fakeItem || '{}'
  return '{}'
}
let fakeItem = ''

/**
 * aws-lite calls `http.request(options, callback)` and `end(body)`; in fake mode the sandbox's
 * port answers in process, so no HTTP stack is measured for Architect, as none is for the others.
 */
function patchHttp(box: Sandbox) {
  const original = http.request
  const patched = (
    options: http.RequestOptions,
    callback?: (res: http.IncomingMessage) => void,
  ) => {
    if (!box.fake || Number(options.port) !== box.proxy.port) {
      return (original as (...a: unknown[]) => http.ClientRequest)(options, callback)
    }
    const req = new EventEmitter() as EventEmitter & { end(body?: string | Buffer): void }
    req.end = (body) => {
      const headers = options.headers as Record<string, string>
      const target = headers['X-Amz-Target'] ?? headers['x-amz-target'] ?? ''
      const answer = fakeAnswer(target, String(body ?? ''), box.proxy.ssm)
      const res = new EventEmitter() as EventEmitter & { statusCode: number; headers: object }
      res.statusCode = 200
      res.headers = { 'content-type': 'application/x-amz-json-1.0' }
      process.nextTick(() => {
        callback?.(res as unknown as http.IncomingMessage)
        res.emit('data', Buffer.from(answer))
        res.emit('end')
      })
    }
    return req
  }
  http.request = patched as typeof http.request
}

async function createArcTable(endpoint: string) {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials })
  try {
    // Architect's session table: hash key `_idx`, TTL on `_ttl`.
    await client.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: '_idx', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: '_idx', KeyType: 'HASH' }],
      }),
    )
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error
  } finally {
    client.destroy()
  }
}

/** The process's sandbox, started on first use. */
function getSandbox(): Promise<Sandbox> {
  sandbox ??= (async () => {
    const proxy = await startProxy(undefined, true)
    proxy.ssm = [{ Name: '/ArcAppTesting/tables/sessions', Value: TABLE }]
    // What Architect's Sandbox sets for a function; read by Architect on every call.
    process.env.ARC_ENV = 'testing'
    process.env.ARC_SANDBOX = JSON.stringify({
      version: '6.0.0',
      ports: { _arc: proxy.port, tables: proxy.port },
    })
    process.env.ARC_SESSION_TABLE_NAME = 'sessions'
    process.env.ARC_APP_SECRET = SECRET
    process.env.ARC_SESSION_TTL = '86400'
    process.env.AWS_REGION ??= 'us-east-1'
    process.env.AWS_ACCESS_KEY_ID ??= credentials.accessKeyId
    process.env.AWS_SECRET_ACCESS_KEY ??= credentials.secretAccessKey
    const box = { proxy, fake: true } as Sandbox
    patchHttp(box)
    box.session = require('@architect/functions').http.session
    return box
  })()
  return sandbox
}

/** Architect with calls answered in process (the CPU benchmark). */
export async function arcFake(): Promise<Sandbox> {
  const box = await getSandbox()
  box.fake = true
  return box
}

/** Architect with calls sent to `endpoint` (DynamoDB Local) through the metering proxy. */
export async function arcOn(endpoint: string, delayMs = 0): Promise<Sandbox> {
  const box = await getSandbox()
  if (box.endpoint !== endpoint) {
    await createArcTable(endpoint)
    box.endpoint = endpoint
  }
  box.proxy.upstream = endpoint
  box.proxy.delayMs = delayMs
  box.fake = false
  return box
}

/**
 * Architect's way, from a Hono route: read the session from the request, change it, write it,
 * send the Set-Cookie `write` returns. Architect has no regenerate or destroy: login writes the
 * user under the same id, logout writes the session back without the user's keys.
 */
export function arcRoutes(box: Sandbox, routes: Record<string, ArcHandler>): Hono {
  const app = new Hono()
  for (const [key, handler] of Object.entries(routes)) {
    const [method, path] = key.split(' ')
    app.on(method, path, async (c) => {
      const cookie = c.req.header('cookie')
      if (handler === 'none') return c.text('ok')
      const session = await box.session.read({ headers: cookie ? { cookie } : {} })
      const text = handler(session)
      if (text === undefined) return c.text(`${session.user} ${session.cart}`)
      c.header('set-cookie', await box.session.write(session))
      return c.text(text)
    })
  }
  return app
}

/** A route's work on Architect's session object: return text to write it back, undefined to only read. */
// biome-ignore lint/suspicious/noExplicitAny: Architect's session is a plain object of any shape
export type ArcHandler = 'none' | ((session: any) => string | undefined)
