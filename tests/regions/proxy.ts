/**
 * @module One region's endpoint: an HTTP proxy in front of its DynamoDB Local that can be taken
 * down (connections refused, requests left hanging, or 500s) and brought back on the same port,
 * while the data stays in DynamoDB Local. It counts the requests it serves by operation and hands
 * each one to a `serve` function, which decides how to forward it (the replicator wraps writes).
 *
 * It speaks HTTP/1.1 over `node:net` itself, as tests/fault-proxy.ts does, so that a refused,
 * hanging or reset connection is exactly what the client sees on Node, Bun and Deno alike.
 * Every answer carries `Connection: close`: one request per connection keeps the parser small.
 */

import { createServer, type Server, type Socket } from 'node:net'
import type { Json } from './dynamodb.ts'

/** How a region is down: its endpoint refuses connections, never answers, or answers 500. */
export type Outage = 'refuse' | 'hang' | '500'

/** What DynamoDB Local answered, passed back to the client as it is. */
export interface Answer {
  status: number
  text: string
}

/** Sends a request on to DynamoDB Local, with `body` in place of the client's when given. */
export type Forward = (body?: Json) => Promise<Answer>

/** Decides what becomes of a request: `op` is `PutItem`, `GetRecords`…; `body` is parsed. */
export type Serve = (op: string, body: Json, forward: Forward) => Promise<Answer>

const HEAD_END = '\r\n\r\n'
const MAX_HEAD_BYTES = 64 * 1024
const FORWARDED_HEADERS = ['content-type', 'x-amz-target', 'authorization', 'x-amz-date']
const UNREACHABLE: Answer = {
  status: 502,
  text: '{"__type":"com.amazonaws.dynamodb.v20120810#ProxyError","message":"DynamoDB Local could not be reached"}',
}
const OUTAGE_500: Answer = {
  status: 500,
  text: '{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"the region is down (harness)"}',
}

function send(socket: Socket, { status, text }: Answer): void {
  if (socket.destroyed) return
  const body = Buffer.from(text)
  const head =
    `HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Error'}\r\n` +
    'content-type: application/x-amz-json-1.0\r\n' +
    `content-length: ${body.length}\r\n` +
    'connection: close\r\n\r\n'
  socket.end(Buffer.concat([Buffer.from(head), body]))
}

/** Parses one request off `socket` and calls `onRequest` once with its headers and body. */
function readRequest(
  socket: Socket,
  onRequest: (headers: Record<string, string>, body: Buffer) => void,
): void {
  let buffer = Buffer.alloc(0)
  let done = false
  socket.on('data', (chunk: Buffer) => {
    if (done) return
    buffer = Buffer.concat([buffer, chunk])
    const end = buffer.indexOf(HEAD_END)
    if (end < 0) {
      if (buffer.length > MAX_HEAD_BYTES) socket.destroy()
      return
    }
    const headers: Record<string, string> = {}
    for (const line of buffer.subarray(0, end).toString('latin1').split('\r\n').slice(1)) {
      const colon = line.indexOf(':')
      if (colon > 0)
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    const start = end + HEAD_END.length
    const length = Number(headers['content-length'] ?? 0)
    if (buffer.length - start < length) return
    done = true
    onRequest(headers, buffer.subarray(start, start + length))
  })
}

/** One region's endpoint in front of `target` (its DynamoDB Local); `listen()` starts it. */
export class RegionProxy {
  private readonly sockets = new Set<Socket>()
  /** Requests received while hanging: ended (reset) when the region comes back. */
  private readonly held = new Set<Socket>()
  private counts: Record<string, number> = {}
  private server: Server | undefined
  private port = 0
  /** Whether it is down, and how. */
  outage: Outage | undefined

  constructor(
    private readonly target: string,
    private readonly serve: Serve,
  ) {}

  /** `http://127.0.0.1:<port>`; the same before and after an outage. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Requests served while up, by operation; a copy. */
  calls(): Record<string, number> {
    return { ...this.counts }
  }

  resetCalls(): void {
    this.counts = {}
  }

  async down(how: Outage): Promise<void> {
    if (this.outage === 'refuse') await this.listen()
    this.outage = how
    if (how === 'refuse') await this.stopListening()
  }

  async up(): Promise<void> {
    const was = this.outage
    this.outage = undefined
    for (const socket of this.held) socket.destroy()
    this.held.clear()
    if (was === 'refuse') await this.listen()
  }

  async close(): Promise<void> {
    this.outage = 'refuse'
    await this.stopListening()
  }

  /** Listens on a free loopback port at first, then on the same one again. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket))
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject)
        this.server = server
        const address = server.address()
        if (address && typeof address === 'object') this.port = address.port
        resolve()
      })
    })
  }

  private async stopListening(): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const socket of this.sockets) socket.destroy()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => {
      this.sockets.delete(socket)
      this.held.delete(socket)
    })
    socket.on('error', () => {})
    readRequest(socket, (headers, raw) => void this.handle(headers, raw, socket))
  }

  private async handle(headers: Record<string, string>, raw: Buffer, socket: Socket) {
    if (this.outage) return this.reply(socket, OUTAGE_500)
    const op = (headers['x-amz-target'] ?? '').split('.').pop() ?? ''
    this.counts[op] = (this.counts[op] ?? 0) + 1
    const forward = this.forwarder(headers, raw)
    let body: Json
    try {
      body = JSON.parse(raw.toString('utf8') || '{}')
    } catch {
      return this.reply(socket, await forward())
    }
    this.reply(socket, await this.serve(op, body, forward))
  }

  private forwarder(headers: Record<string, string>, raw: Buffer): Forward {
    return async (body) => {
      try {
        const response = await fetch(this.target, {
          method: 'POST',
          headers: Object.fromEntries(FORWARDED_HEADERS.map((h) => [h, headers[h] ?? ''])),
          body: body ? JSON.stringify(body) : new Uint8Array(raw),
        })
        return { status: response.status, text: await response.text() }
      } catch {
        return UNREACHABLE
      }
    }
  }

  /** Answers now, or as the region's outage says when it went down meanwhile. */
  private reply(socket: Socket, answer: Answer): void {
    if (this.outage === 'hang') this.held.add(socket)
    else send(socket, this.outage === '500' ? OUTAGE_500 : answer)
  }
}
