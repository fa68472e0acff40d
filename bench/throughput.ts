// Benchmark 4: requests per second through the middleware on Node and Bun, loaded over loopback
// at concurrency 50 with autocannon, against DynamoDB Local; and the raw limit: the same DynamoDB
// calls per second from the same runtime with no server in front.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import autocannon from 'autocannon'
import { createSessionTable } from '../src/index.ts'
import {
  BENCH_DIR,
  BIN,
  credentials,
  describeMachine,
  fmt,
  machine,
  type RunOptions,
  type Stat,
  stat,
  table,
  writeResult,
} from './lib.ts'

const run = promisify(execFile)
const RUNTIMES = ['node', 'bun'] as const
type Runtime = (typeof RUNTIMES)[number]
const WORKLOADS = ['read-only', 'changing'] as const
type Workload = (typeof WORKLOADS)[number]
const CONCURRENCY = 50

function command(runtime: Runtime, file: string): [string, string[]] {
  return runtime === 'node'
    ? [process.execPath, ['--import', 'tsx', file]]
    : [join(BIN, 'bun'), [file]]
}

interface Server {
  port: number
  child: ChildProcess
}

async function startServer(runtime: Runtime, env: Record<string, string>): Promise<Server> {
  const [cmd, args] = command(runtime, join(BENCH_DIR, 'server.ts'))
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout! })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${runtime} server exited with ${code}`)))
    lines.on('line', (line) => {
      if (line.startsWith('{')) resolve(JSON.parse(line).port)
    })
  })
  return { port, child }
}

async function stopServer(server: Server) {
  if (server.child.exitCode !== null) return
  const exited = new Promise((resolve) => server.child.once('exit', resolve))
  server.child.kill('SIGTERM')
  await exited
}

/** One session per load-generator connection, started through the server as a browser would. */
async function sessions(port: number, count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const res = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST' })
      await res.arrayBuffer()
      const cookie = res.headers.getSetCookie()[0]
      if (res.status !== 200 || !cookie) throw new Error(`login answered ${res.status}`)
      return cookie.split(';')[0]
    }),
  )
}

async function loadServer(port: number, workload: Workload, cookies: string[], seconds: number) {
  let next = 0
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${workload === 'read-only' ? '/read' : '/change'}`,
    method: workload === 'read-only' ? 'GET' : 'POST',
    connections: CONCURRENCY,
    duration: seconds,
    setupClient: (client: { setHeaders(h: Record<string, string>): void }) => {
      client.setHeaders({ cookie: cookies[next++ % cookies.length] })
    },
  })
  if (result.non2xx || result.errors) {
    throw new Error(`${workload}: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
  }
  return result.requests.total / result.duration
}

async function loadRaw(runtime: Runtime, env: Record<string, string>, workload: Workload) {
  const [cmd, args] = command(runtime, join(BENCH_DIR, 'raw.ts'))
  const { stdout } = await run(cmd, args, {
    env: { ...process.env, ...env, BENCH_WORKLOAD: workload },
  })
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}').perSecond as number
}

export interface ThroughputResult {
  machine: Record<string, string>
  seconds: number
  runs: number
  concurrency: number
  results: Record<Runtime, Record<Workload, { server: Stat; raw: Stat; ratio: number }>>
}

export async function runThroughput(options: RunOptions): Promise<ThroughputResult> {
  if (!options.endpoint) throw new Error('the throughput benchmark needs DynamoDB Local')
  const seconds = options.smoke ? 0.5 : 4
  const runs = options.smoke ? 1 : 5
  const m = await machine()
  options.log('\n## 4. Throughput (DynamoDB Local, loopback, concurrency 50)\n')
  options.log(describeMachine(m))
  const tableName = `bench-throughput-${Date.now().toString(36)}`
  await createSessionTable({
    table: tableName,
    endpoint: options.endpoint,
    region: 'us-east-1',
    credentials,
  })
  const env = {
    BENCH_ENDPOINT: options.endpoint,
    BENCH_TABLE: tableName,
    BENCH_SECONDS: String(seconds),
    BENCH_CONCURRENCY: String(CONCURRENCY),
  }
  const servers = {} as Record<Runtime, Server>
  const cookies = {} as Record<Runtime, string[]>
  const samples = new Map<string, number[]>()
  try {
    for (const runtime of RUNTIMES) {
      servers[runtime] = await startServer(runtime, env)
      cookies[runtime] = await sessions(servers[runtime].port, CONCURRENCY)
    }
    // Round 0 warms up the servers, the JIT and DynamoDB Local; it is dropped (and skipped in smoke runs).
    for (let round = options.smoke ? 1 : 0; round <= runs; round++) {
      for (const runtime of RUNTIMES) {
        for (const workload of WORKLOADS) {
          const measure = {
            raw: () => loadRaw(runtime, env, workload),
            server: () => loadServer(servers[runtime].port, workload, cookies[runtime], seconds),
          }
          const order = round % 2 ? (['server', 'raw'] as const) : (['raw', 'server'] as const)
          for (const which of order) {
            const perSecond = await measure[which]()
            if (round === 0) continue
            const key = `${runtime}\n${workload}\n${which}`
            samples.set(key, [...(samples.get(key) ?? []), perSecond])
          }
        }
      }
    }
  } finally {
    for (const runtime of RUNTIMES) if (servers[runtime]) await stopServer(servers[runtime])
  }
  const results = {} as ThroughputResult['results']
  const rows: string[][] = []
  for (const runtime of RUNTIMES) {
    results[runtime] = {} as Record<Workload, { server: Stat; raw: Stat; ratio: number }>
    for (const workload of WORKLOADS) {
      const server = stat(samples.get(`${runtime}\n${workload}\nserver`)!)
      const raw = stat(samples.get(`${runtime}\n${workload}\nraw`)!)
      const ratio = server.median / raw.median
      results[runtime][workload] = { server, raw, ratio }
      rows.push([runtime, workload, fmt(server, 0), fmt(raw, 0), `${(ratio * 100).toFixed(0)}%`])
    }
  }
  options.log(
    `\n${runs} runs of ${seconds} s after a warm-up, server and raw interleaved; requests per second, median (min–max). Raw: the same GetItem (+ UpdateItem) calls from the same runtime, ${CONCURRENCY} at a time, no server.\n`,
  )
  options.log(
    table(['runtime', 'workload', 'server req/s', 'raw limit req/s', 'server ÷ raw'], rows),
  )
  const result: ThroughputResult = { machine: m, seconds, runs, concurrency: CONCURRENCY, results }
  await writeResult(options, 'throughput', result)
  return result
}
