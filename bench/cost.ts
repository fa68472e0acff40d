// Benchmark 3: DynamoDB calls and capacity units for one scripted workload, ours against
// express-session + connect-dynamodb, both on DynamoDB Local, both told to report capacity.

import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { Hono } from 'hono'
import { createSessionTable, dynamoSession, type SessionEnv } from '../src/index.ts'
import {
  credentials,
  describeMachine,
  fmt,
  machine,
  prng,
  type RunOptions,
  SECRET,
  type Stat,
  stat,
  table,
  writeResult,
} from './lib.ts'

const require = createRequire(import.meta.url)
// Untyped CommonJS packages, loaded the way their READMEs show.
// biome-ignore lint/suspicious/noExplicitAny: express has no types installed here
const express: any = require('express')
// biome-ignore lint/suspicious/noExplicitAny: express-session has no types installed here
const session: any = require('express-session')
// biome-ignore lint/suspicious/noExplicitAny: typed against express-session's missing types
const connectDynamoDB: any = require('connect-dynamodb')

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan'])
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'])

/** What one candidate spent: calls by operation and the capacity DynamoDB reported. */
class Meter {
  calls: Record<string, number> = {}
  failed = 0
  rcu = 0
  wcu = 0
  record(op: string, units: number | undefined, ok: boolean) {
    this.calls[op] = (this.calls[op] ?? 0) + 1
    if (!ok) this.failed++
    if (READS.has(op)) this.rcu += units ?? 0
    else if (WRITES.has(op)) this.wcu += units ?? 0
  }
  count(kinds: Set<string>) {
    return Object.entries(this.calls)
      .filter(([op]) => kinds.has(op))
      .reduce((sum, [, n]) => sum + n, 0)
  }
}

/**
 * A fetch for our client that asks DynamoDB for `ReturnConsumedCapacity: TOTAL` (the library never
 * does) and records what comes back. DynamoDB Local does not check signatures, so the rewritten
 * body can keep the original signature.
 */
function meteredFetch(meter: Meter): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init)
    const op = (request.headers.get('x-amz-target') ?? '').split('.').pop() ?? ''
    const body = JSON.parse(await request.text())
    body.ReturnConsumedCapacity = 'TOTAL'
    const headers = new Headers(request.headers)
    headers.delete('content-length')
    const response = await fetch(request.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: request.signal,
    })
    const text = await response.text()
    let units: number | undefined
    try {
      units = JSON.parse(text).ConsumedCapacity?.CapacityUnits
    } catch {}
    meter.record(op, units, response.ok)
    return new Response(text, { status: response.status, headers: response.headers })
  }
}

/** The same for the AWS SDK client connect-dynamodb is given: a middleware on its stack. */
function meteredSdkClient(endpoint: string, meter: Meter): DynamoDBClient {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials })
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = String(context.commandName ?? '').replace(/Command$/, '')
      const input = args.input as Record<string, unknown>
      if (READS.has(op) || WRITES.has(op)) input.ReturnConsumedCapacity = 'TOTAL'
      try {
        const out = await next(args)
        const output = out.output as { ConsumedCapacity?: { CapacityUnits?: number } }
        meter.record(op, output.ConsumedCapacity?.CapacityUnits, true)
        return out
      } catch (error) {
        meter.record(op, undefined, false)
        throw error
      }
    },
    { step: 'initialize', name: 'benchCapacity' },
  )
  return client
}

type Kind = 'page view' | 'cart change' | 'login' | 'logout'
const MIX: [Kind, number][] = [
  ['page view', 0.7],
  ['cart change', 0.2],
  ['login', 0.05],
  ['logout', 0.05],
]
const ROUTES: Record<Kind, [string, string]> = {
  'page view': ['GET', '/'],
  'cart change': ['POST', '/cart'],
  login: ['POST', '/login'],
  logout: ['POST', '/logout'],
}

/** The scripted workload: which browser sends which kind of request, from a seed. */
export function workload(seed: number, requests: number, browsers: number) {
  const random = prng(seed)
  return Array.from({ length: requests }, () => {
    const browser = Math.floor(random() * browsers)
    const r = random()
    let kind: Kind = 'page view'
    let sum = 0
    for (const [k, p] of MIX) {
      sum += p
      if (r < sum) {
        kind = k
        break
      }
    }
    return { browser, kind }
  })
}

/** A browser's cookie jar: keeps what Set-Cookie says, drops what it clears. */
class Jar {
  cookies = new Map<string, string>()
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
  update(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at)
      const value = pair.slice(at + 1)
      if (!value || /max-age=0(;|$)/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }
}

type Send = (method: string, path: string, cookie: string) => Promise<Response>

interface Candidate {
  name: string
  meter: Meter
  send: Send
  close: () => Promise<void>
}

type Data = { user: string; cart: string[] }

async function ours(endpoint: string, tableName: string): Promise<Candidate> {
  const meter = new Meter()
  const conn = { table: tableName, endpoint, region: 'us-east-1', credentials }
  await createSessionTable(conn)
  const app = new Hono<SessionEnv<Data>>()
  app.use(dynamoSession<Data>({ ...conn, secret: SECRET, fetch: meteredFetch(meter) }))
  let n = 0
  app.get('/', (c) => {
    const s = c.get('session')
    return c.text(`${s.get('user') ?? 'guest'}: ${(s.get('cart') ?? []).length} items`)
  })
  app.post('/cart', (c) => {
    const s = c.get('session')
    s.set('cart', [...(s.get('cart') ?? []), `sku-${n++}`].slice(-5))
    return c.text('added')
  })
  app.post('/login', (c) => {
    const s = c.get('session')
    s.regenerate()
    s.set('user', `user-${n++}`)
    return c.text('welcome')
  })
  app.post('/logout', (c) => {
    c.get('session').destroy()
    return c.text('bye')
  })
  const send: Send = async (method, path, cookie) =>
    app.request(path, { method, headers: cookie ? { cookie } : {} })
  return { name: 'ours (dynamoSession)', meter, send, close: async () => {} }
}

async function theirs(endpoint: string, tableName: string): Promise<Candidate> {
  const meter = new Meter()
  // Same key schema as connect-dynamodb's own (hash key `id`, `expires`), billed on demand.
  await createSessionTable({ table: tableName, endpoint, region: 'us-east-1', credentials })
  const DynamoDBStore = connectDynamoDB({ session })
  const store = new DynamoDBStore({ table: tableName, client: meteredSdkClient(endpoint, meter) })
  const app = express()
  // express-session's README: resave false when the store has touch(), saveUninitialized false
  // for login sessions; one day, as ours.
  app.use(
    session({
      store,
      secret: SECRET,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 86_400_000 },
    }),
  )
  let n = 0
  // biome-ignore lint/suspicious/noExplicitAny: express request and response objects
  type Handler = (req: any, res: any, next: (error?: unknown) => void) => void
  const route: Record<string, Handler> = {
    'GET /': (req, res) =>
      res.send(`${req.session.user ?? 'guest'}: ${(req.session.cart ?? []).length} items`),
    'POST /cart': (req, res) => {
      req.session.cart = [...(req.session.cart ?? []), `sku-${n++}`].slice(-5)
      res.send('added')
    },
    'POST /login': (req, res, next) =>
      req.session.regenerate((error: unknown) => {
        if (error) return next(error)
        req.session.user = `user-${n++}`
        res.send('welcome')
      }),
    'POST /logout': (req, res, next) =>
      req.session.destroy((error: unknown) => (error ? next(error) : res.send('bye'))),
  }
  for (const [key, handler] of Object.entries(route)) {
    const [method, path] = key.split(' ')
    app[method.toLowerCase()](path, handler)
  }
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const send: Send = (method, path, cookie) =>
    fetch(`${base}${path}`, { method, headers: cookie ? { cookie } : {} })
  return {
    name: 'express-session + connect-dynamodb',
    meter,
    send,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

async function drive(candidate: Candidate, script: ReturnType<typeof workload>, browsers: number) {
  const jars = Array.from({ length: browsers }, () => new Jar())
  for (const { browser, kind } of script) {
    const [method, path] = ROUTES[kind]
    const response = await candidate.send(method, path, jars[browser].header())
    await response.arrayBuffer()
    if (response.status !== 200) throw new Error(`${candidate.name} ${kind}: ${response.status}`)
    jars[browser].update(response)
  }
}

interface Totals {
  reads: number
  writes: number
  rcu: number
  wcu: number
  other: number
  failed: number
  calls: Record<string, number>
}

export interface CostResult {
  machine: Record<string, string>
  requests: number
  browsers: number
  runs: number
  mix: typeof MIX
  results: Record<string, { reads: Stat; writes: Stat; rcu: Stat; wcu: Stat; perRun: Totals[] }>
}

export async function runCost(options: RunOptions): Promise<CostResult> {
  if (!options.endpoint) throw new Error('the cost benchmark needs DynamoDB Local')
  const endpoint = options.endpoint
  const requests = options.smoke ? 40 : 1000
  const browsers = options.smoke ? 5 : 100
  const runs = options.smoke ? 1 : 5
  const m = await machine()
  options.log('\n## 3. DynamoDB cost of one workload (DynamoDB Local)\n')
  options.log(describeMachine(m))
  const makers = [ours, theirs]
  const perRun = new Map<string, Totals[]>()
  const stamp = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`
  for (let round = 0; round <= runs; round++) {
    const script = workload(round + 1, round === 0 ? Math.min(requests, 100) : requests, browsers)
    // Alternate which candidate goes first; each run gets fresh tables.
    const order = round % 2 ? [...makers].reverse() : makers
    for (const make of order) {
      const candidate = await make(endpoint, `bench-cost-${make.name}-${stamp}-${round}`)
      try {
        await drive(candidate, script, browsers)
      } finally {
        await candidate.close()
      }
      if (round === 0) continue
      const meter = candidate.meter
      const totals: Totals = {
        reads: meter.count(READS),
        writes: meter.count(WRITES),
        rcu: meter.rcu,
        wcu: meter.wcu,
        other: Object.entries(meter.calls)
          .filter(([op]) => !READS.has(op) && !WRITES.has(op))
          .reduce((sum, [, v]) => sum + v, 0),
        failed: meter.failed,
        calls: meter.calls,
      }
      perRun.set(candidate.name, [...(perRun.get(candidate.name) ?? []), totals])
    }
  }
  const results: CostResult['results'] = {}
  for (const [name, totals] of perRun) {
    results[name] = {
      reads: stat(totals.map((t) => t.reads)),
      writes: stat(totals.map((t) => t.writes)),
      rcu: stat(totals.map((t) => t.rcu)),
      wcu: stat(totals.map((t) => t.wcu)),
      perRun: totals,
    }
  }
  const names = [...perRun.keys()].sort((a) => (a.startsWith('ours') ? -1 : 1))
  const opsOf = (name: string) => {
    const sums: Record<string, number[]> = {}
    for (const t of perRun.get(name)!) {
      for (const [op, n] of Object.entries(t.calls)) sums[op] = [...(sums[op] ?? []), n]
    }
    return Object.entries(sums)
      .map(([op, ns]) => `${op} ${stat(ns).median}`)
      .join(', ')
  }
  options.log(
    `\n${requests} requests from ${browsers} browsers: ${MIX.map(([k, p]) => `${p * 100}% ${k}s`).join(', ')}; ${runs} runs (a different script each, the same for both) after a warm-up; median (min–max)\n`,
  )
  options.log(
    table(
      ['candidate', 'reads', 'writes', 'read units', 'write units', 'calls (median)'],
      names.map((name) => [
        name,
        fmt(results[name].reads, 0),
        fmt(results[name].writes, 0),
        fmt(results[name].rcu, 1),
        fmt(results[name].wcu, 1),
        opsOf(name),
      ]),
    ),
  )
  const result: CostResult = { machine: m, requests, browsers, runs, mix: MIX, results }
  await writeResult(options, 'cost', result)
  return result
}
