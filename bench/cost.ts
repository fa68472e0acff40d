// Benchmark 3: DynamoDB calls and capacity units for one scripted workload, ours against
// express-session + connect-dynamodb and @architect/functions, all on DynamoDB Local behind the
// metering proxy (bench/proxy.ts), which asks DynamoDB to report capacity for every call.

import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { Hono } from 'hono'
import { createSessionTable, dynamoSession, type SessionEnv } from '../src/index.ts'
import { arcOn, arcRoutes } from './arc.ts'
import {
  credentials,
  describeMachine,
  fmt,
  machine,
  prng,
  type RunOptions,
  rotate,
  SECRET,
  type Stat,
  stat,
  table,
  writeResult,
} from './lib.ts'
import { type DynamoProxy, Meter, startProxy } from './proxy.ts'

const require = createRequire(import.meta.url)
// Untyped CommonJS packages, loaded the way their READMEs show.
// biome-ignore lint/suspicious/noExplicitAny: express has no types installed here
const express: any = require('express')
// biome-ignore lint/suspicious/noExplicitAny: express-session has no types installed here
const session: any = require('express-session')
// biome-ignore lint/suspicious/noExplicitAny: typed against express-session's missing types
const connectDynamoDB: any = require('connect-dynamodb')

export type Kind = 'page view' | 'cart change' | 'login' | 'logout'
const MIX: [Kind, number][] = [
  ['page view', 0.7],
  ['cart change', 0.2],
  ['login', 0.05],
  ['logout', 0.05],
]
export const ROUTES: Record<Kind, [string, string]> = {
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
export class Jar {
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

/** One session library serving the workload's four routes, its DynamoDB calls through `proxy`. */
export interface Candidate {
  name: string
  proxy: DynamoProxy
  send: Send
  close: () => Promise<void>
}

type Data = { user: string; cart: string[] }

async function ours(endpoint: string, tableName: string): Promise<Candidate> {
  const conn = { table: tableName, endpoint, region: 'us-east-1', credentials }
  await createSessionTable(conn)
  const proxy = await startProxy(endpoint)
  const app = new Hono<SessionEnv<Data>>()
  app.use(dynamoSession<Data>({ ...conn, endpoint: proxy.endpoint, secret: SECRET }))
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
  return { name: 'ours (dynamoSession)', proxy, send, close: () => proxy.close() }
}

async function theirs(endpoint: string, tableName: string): Promise<Candidate> {
  // Same key schema as connect-dynamodb's own (hash key `id`, `expires`), billed on demand.
  await createSessionTable({ table: tableName, endpoint, region: 'us-east-1', credentials })
  const proxy = await startProxy(endpoint)
  const client = new DynamoDBClient({ endpoint: proxy.endpoint, region: 'us-east-1', credentials })
  const DynamoDBStore = connectDynamoDB({ session })
  const store = new DynamoDBStore({ table: tableName, client })
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
    proxy,
    send,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
      client.destroy()
      await proxy.close()
    },
  }
}

/**
 * `@architect/functions`: `arc.http.session.read` on every route, `write` when it changed. It has
 * no regenerate or destroy: login writes the user under the same id, logout writes the session
 * back without the user's keys. Its one table per process (bench/arc.ts) is not `tableName`.
 */
async function architect(endpoint: string, _tableName: string): Promise<Candidate> {
  const box = await arcOn(endpoint)
  box.proxy.meter = new Meter()
  let n = 0
  const app = arcRoutes(box, {
    'GET /': () => undefined,
    'POST /cart': (s) => {
      s.cart = [...(s.cart ?? []), `sku-${n++}`].slice(-5)
      return 'added'
    },
    'POST /login': (s) => {
      s.user = `user-${n++}`
      return 'welcome'
    },
    'POST /logout': (s) => {
      delete s.user
      delete s.cart
      return 'bye'
    },
  })
  const send: Send = async (method, path, cookie) =>
    app.request(path, { method, headers: cookie ? { cookie } : {} })
  return { name: 'architect/functions (aws-lite)', proxy: box.proxy, send, close: async () => {} }
}

export const NAMES = [
  'ours (dynamoSession)',
  'express-session + connect-dynamodb',
  'architect/functions (aws-lite)',
] as const

/** The DynamoDB-backed candidates, in the order of NAMES. */
export const MAKERS: ((endpoint: string, table: string) => Promise<Candidate>)[] = [
  ours,
  theirs,
  architect,
]

export async function drive(
  candidate: Candidate,
  script: ReturnType<typeof workload>,
  browsers: number,
) {
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
  const makers = MAKERS
  const perRun = new Map<string, Totals[]>()
  const stamp = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`
  for (let round = 0; round <= runs; round++) {
    const script = workload(round + 1, round === 0 ? Math.min(requests, 100) : requests, browsers)
    // Rotate which candidate goes first; each run gets fresh tables (Architect: fresh browsers).
    const order = rotate(makers, round)
    for (const make of order) {
      const candidate = await make(endpoint, `bench-cost-${make.name}-${stamp}-${round}`)
      try {
        await drive(candidate, script, browsers)
      } finally {
        await candidate.close()
      }
      if (round === 0) continue
      const meter = candidate.proxy.meter
      const totals: Totals = {
        reads: meter.count('reads'),
        writes: meter.count('writes'),
        rcu: meter.rcu,
        wcu: meter.wcu,
        other: meter.other(),
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
  const names = NAMES.filter((name) => perRun.has(name))
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
    `\n${requests} requests from ${browsers} browsers: ${MIX.map(([k, p]) => `${p * 100}% ${k}s`).join(', ')}; ${runs} runs (a different script each, the same for every candidate) after a warm-up; median (min–max)\n`,
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
