// A local HTTP proxy between the library and DynamoDB Local that injects faults on demand:
// throttling answers, 5xx, refused connections, connections reset mid-response, replies that
// never come, writes applied whose replies are lost or come late, and delays. Point the middleware's `endpoint` at `proxy.endpoint`.
//
// It speaks HTTP/1.1 over `node:net` itself rather than through `node:http`, so that a reset
// or a hang is exactly what the client sees on Node, Bun and Deno alike (their `node:http`
// servers buffer and close sockets in their own ways). Every answer carries
// `Connection: close`, which keeps the parser to one request per connection.
//
//   const proxy = await startFaultProxy(testEndpoint())
//   proxy.inject({ kind: 'throttle', type: 'ThrottlingException' }, { times: 2 })
//   // ... requests ...
//   await proxy.close()

import { createServer, type Server, type Socket } from 'node:net'
import { sleep } from '../support/clock.ts'

/** What the proxy does with a request instead of forwarding it. */
export type Fault =
  /** HTTP 400 with DynamoDB's throttling `__type` (as DynamoDB throttles). */
  | { kind: 'throttle'; type: string }
  /** Any status with a DynamoDB-style error body. */
  | { kind: 'status'; status: number; type?: string }
  /** A 200 head and half of its body, then the connection is destroyed. Not forwarded. */
  | { kind: 'reset' }
  /** Reads the request and never answers; the client's timeout has to end it. Not forwarded. */
  | { kind: 'hang' }
  /** Forwards the request after a pause. */
  | { kind: 'delay'; ms: number }
  /** Forwards the request, so DynamoDB applies it, then drops the connection unanswered. */
  | { kind: 'lose-reply' }
  /**
   * Forwards the request, so DynamoDB applies it, then holds DynamoDB's answer for `ms` (past the
   * client's timeout, the client has given up on it and retried by then).
   */
  | { kind: 'late-reply'; ms: number }

/** A DynamoDB request as the proxy saw it. */
export interface ProxiedCall {
  /** `GetItem`, `UpdateItem`… */
  op: string
  // biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
  body: any
  /** The fault applied, or 'forwarded'. */
  outcome: Fault['kind'] | 'forwarded'
}

/** Which requests a fault applies to, and how many times. */
export interface InjectOptions {
  /** Apply to this many matching requests, then stop. @default Infinity */
  times?: number
  /** Only requests for which this returns true. @default every request */
  // biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
  match?: (op: string, body: any) => boolean
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: give it to the middleware as `endpoint`. */
  readonly endpoint: string
  readonly port: number
  /** Every request received, in order. */
  readonly calls: ProxiedCall[]
  /** Adds a fault; the first rule that matches a request and has uses left applies. */
  inject(fault: Fault, options?: InjectOptions): void
  /** Removes every fault: requests are forwarded again. */
  clear(): void
  /** Stops listening and drops open connections: connections are refused from now on. */
  refuse(): Promise<void>
  /** Listens again on the same port. */
  accept(): Promise<void>
  /** Stops everything; safe to call more than once. */
  close(): Promise<void>
}

interface Rule {
  fault: Fault
  left: number
  // biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
  match?: (op: string, body: any) => boolean
}

const HEAD_END = '\r\n\r\n'
const MAX_HEAD_BYTES = 64 * 1024

const reasons: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 500: 'Server Error' }

function head(status: number, length: number): string {
  return (
    `HTTP/1.1 ${status} ${reasons[status] ?? 'Status'}\r\n` +
    'content-type: application/x-amz-json-1.0\r\n' +
    `content-length: ${length}\r\n` +
    'connection: close\r\n\r\n'
  )
}

function answer(socket: Socket, status: number, body: string): void {
  const bytes = Buffer.from(body)
  socket.end(Buffer.concat([Buffer.from(head(status, bytes.length)), bytes]))
}

/** Starts a proxy to `target` (DynamoDB Local's endpoint) on a free loopback port. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const rules: Rule[] = []
  const calls: ProxiedCall[] = []
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0

  function take(op: string, body: unknown): Fault | undefined {
    for (const rule of rules) {
      if (rule.left > 0 && (!rule.match || rule.match(op, body))) {
        rule.left--
        return rule.fault
      }
    }
    return undefined
  }

  async function forward(
    headers: Record<string, string>,
    body: Buffer,
    socket: Socket,
    loseReply = false,
    replyAfterMs = 0,
  ) {
    let status = 502
    let text = '{"__type":"ProxyError","message":"DynamoDB Local could not be reached"}'
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': headers['content-type'] ?? 'application/x-amz-json-1.0',
          'x-amz-target': headers['x-amz-target'] ?? '',
          authorization: headers.authorization ?? '',
          'x-amz-date': headers['x-amz-date'] ?? '',
        },
        body: new Uint8Array(body),
      })
      status = res.status
      text = await res.text()
    } catch {
      // Answered as a 502 below, which the client treats as DynamoDB being unavailable.
    }
    if (replyAfterMs) await sleep(replyAfterMs)
    if (loseReply) socket.destroy()
    else if (!socket.destroyed) answer(socket, status, text)
  }

  async function handle(headers: Record<string, string>, body: Buffer, socket: Socket) {
    const op = (headers['x-amz-target'] ?? '').split('.').pop() ?? ''
    let json: unknown
    try {
      json = JSON.parse(body.toString('utf8'))
    } catch {
      json = undefined
    }
    const fault = take(op, json)
    calls.push({ op, body: json, outcome: fault?.kind ?? 'forwarded' })
    if (!fault) return forward(headers, body, socket)
    switch (fault.kind) {
      case 'throttle':
        return answer(
          socket,
          400,
          JSON.stringify({
            __type: `com.amazonaws.dynamodb.v20120810#${fault.type}`,
            message: 'Rate of requests exceeds the allowed throughput.',
          }),
        )
      case 'status':
        return answer(
          socket,
          fault.status,
          JSON.stringify({
            __type: `com.amazonaws.dynamodb.v20120810#${fault.type ?? 'InternalServerError'}`,
            message: 'injected by the fault proxy',
          }),
        )
      case 'reset': {
        const whole = JSON.stringify({ Item: { id: { S: 'x'.repeat(64) } } })
        socket.write(head(200, whole.length) + whole.slice(0, whole.length >> 1), () =>
          socket.destroy(),
        )
        return
      }
      case 'hang':
        return
      case 'delay':
        await sleep(fault.ms)
        return forward(headers, body, socket)
      case 'lose-reply':
        return forward(headers, body, socket, true)
      case 'late-reply':
        return forward(headers, body, socket, false, fault.ms)
    }
  }

  function onConnection(socket: Socket) {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let buffer = Buffer.alloc(0)
    let started = false
    socket.on('data', (chunk: Buffer) => {
      if (started) return
      buffer = Buffer.concat([buffer, chunk])
      const end = buffer.indexOf(HEAD_END)
      if (end < 0) {
        if (buffer.length > MAX_HEAD_BYTES) socket.destroy()
        return
      }
      const lines = buffer.subarray(0, end).toString('latin1').split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':')
        if (colon > 0)
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      const length = Number(headers['content-length'] ?? 0)
      const bodyStart = end + HEAD_END.length
      if (buffer.length - bodyStart < length) return
      started = true
      void handle(headers, buffer.subarray(bodyStart, bodyStart + length), socket)
    })
  }

  function listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = createServer(onConnection)
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject)
        server = s
        const address = s.address()
        if (address && typeof address === 'object') port = address.port
        resolve()
      })
    })
  }

  async function stopListening(): Promise<void> {
    const s = server
    server = undefined
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  await listen()
  return {
    get endpoint() {
      return `http://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    calls,
    inject(fault, options = {}) {
      rules.push({ fault, left: options.times ?? Number.POSITIVE_INFINITY, match: options.match })
    },
    clear() {
      rules.length = 0
    },
    refuse: stopListening,
    accept: listen,
    close: stopListening,
  }
}
