// A small HTTP proxy in front of DynamoDB Local, on a free loopback port: it counts every
// DynamoDB call by operation, asks DynamoDB for `ReturnConsumedCapacity: TOTAL` and records the
// units it reports, and can hold each call for a fixed delay, as a far-away region would. Every
// client (fetch, the AWS SDK, aws-lite over node:http) is measured the same way through it.
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan'])
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'])
const ITEM_OPS = new Set([...READS, ...WRITES, 'TransactWriteItems', 'TransactGetItems'])

/** What one candidate spent: calls by operation and the capacity DynamoDB reported. */
export class Meter {
  calls: Record<string, number> = {}
  failed = 0
  rcu = 0
  wcu = 0
  /** Calls of every kind, for the round-trip count of one request. */
  total = 0
  record(op: string, units: number | undefined, ok: boolean) {
    this.calls[op] = (this.calls[op] ?? 0) + 1
    this.total++
    if (!ok) this.failed++
    if (READS.has(op)) this.rcu += units ?? 0
    else if (WRITES.has(op) || op.startsWith('Transact')) this.wcu += units ?? 0
  }
  count(kinds: 'reads' | 'writes') {
    const set = kinds === 'reads' ? READS : WRITES
    return Object.entries(this.calls)
      .filter(([op]) => set.has(op) || (kinds === 'writes' && op.startsWith('TransactWrite')))
      .reduce((sum, [, n]) => sum + n, 0)
  }
  other() {
    return Object.entries(this.calls)
      .filter(([op]) => !READS.has(op) && !WRITES.has(op) && !op.startsWith('TransactWrite'))
      .reduce((sum, [, n]) => sum + n, 0)
  }
}

/** Units of one answer: one ConsumedCapacity, or a list of them (transactions). */
function unitsOf(text: string): number | undefined {
  try {
    const c = JSON.parse(text).ConsumedCapacity
    if (Array.isArray(c)) return c.reduce((s, x) => s + (x.CapacityUnits ?? 0), 0)
    return c?.CapacityUnits
  } catch {
    return undefined
  }
}

export interface DynamoProxy {
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  port: number
  /** Replace to meter the next candidate apart from the previous one. */
  meter: Meter
  /** Milliseconds each DynamoDB call is held before it is forwarded. */
  delayMs: number
  /** DynamoDB Local's endpoint; calls answer 503 until it is set. */
  upstream: string | undefined
  /** Answers aws-lite's SSM parameter lookup (Architect's service discovery), when set. */
  ssm: { Name: string; Value: string }[] | undefined
  close(): Promise<void>
}

/**
 * Starts the proxy. `unref`: it does not keep the process alive (the Architect sandbox's proxy
 * lives as long as the process, since Architect caches its port).
 */
export async function startProxy(upstream?: string, unref = false): Promise<DynamoProxy> {
  const proxy = {
    meter: new Meter(),
    delayMs: 0,
    upstream,
    ssm: undefined,
  } as DynamoProxy
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', async () => {
      const target = String(req.headers['x-amz-target'] ?? '')
      if (target.startsWith('AmazonSSM.') && proxy.ssm) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        res.end(JSON.stringify({ Parameters: proxy.ssm }))
        return
      }
      const op = target.slice(target.indexOf('.') + 1)
      let body = Buffer.concat(chunks)
      if (ITEM_OPS.has(op)) {
        // DynamoDB Local does not check signatures, so the rewritten body keeps the original one.
        const json = JSON.parse(body.toString('utf8'))
        json.ReturnConsumedCapacity = 'TOTAL'
        body = Buffer.from(JSON.stringify(json))
      }
      if (proxy.delayMs > 0) await new Promise((r) => setTimeout(r, proxy.delayMs))
      if (!proxy.upstream) {
        res.writeHead(503).end()
        return
      }
      const headers = { ...req.headers, 'content-length': String(body.length) }
      delete headers.host
      delete headers.connection
      const url = new URL(proxy.upstream)
      const forward = request(
        { host: url.hostname, port: url.port, method: req.method, path: req.url, headers },
        (answer) => {
          const parts: Buffer[] = []
          answer.on('data', (chunk: Buffer) => parts.push(chunk))
          answer.on('end', () => {
            const text = Buffer.concat(parts)
            const status = answer.statusCode ?? 502
            proxy.meter.record(op, unitsOf(text.toString('utf8')), status < 300)
            const out = { ...answer.headers, 'content-length': String(text.length) }
            delete out['transfer-encoding']
            delete out.connection
            res.writeHead(status, out)
            res.end(text)
          })
        },
      )
      forward.on('error', () => {
        proxy.meter.record(op, undefined, false)
        if (!res.headersSent) res.writeHead(502)
        res.end()
      })
      forward.end(body)
    })
  })
  server.keepAliveTimeout = 30_000
  if (unref) {
    server.unref()
    server.on('connection', (socket) => socket.unref())
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  proxy.port = (server.address() as AddressInfo).port
  proxy.endpoint = `http://127.0.0.1:${proxy.port}`
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return proxy
}
