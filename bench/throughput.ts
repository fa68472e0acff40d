// Benchmark 4: requests per second through the middleware on Node and Bun, loaded over loopback
// at concurrency 50 with autocannon, against DynamoDB Local; and the raw limit: the same DynamoDB
// calls per second from the same runtime with no server in front. The load generator, the server
// and DynamoDB Local share the machine's cores, and the raw client has no load generator beside
// it: so the raw limit is measured a second time with a process burning as much CPU as the load
// generator used during the server's run, and the CPU each process used is reported.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'
import { createSessionTable } from '../src/index.ts'
import {
  BENCH_DIR,
  BIN,
  credentials,
  describeMachine,
  fmt,
  machine,
  processCpuSeconds,
  type RunOptions,
  type Stat,
  stat,
  table,
  writeResult,
} from './lib.ts'

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

/** Cores each process kept busy during one measurement: CPU seconds over wall seconds. */
export type Cores = Record<string, number>

const cores = (cpu: number | undefined, seconds: number) =>
  cpu === undefined ? Number.NaN : cpu / seconds

async function loadServer(
  server: Server,
  workload: Workload,
  cookies: string[],
  seconds: number,
  dynamoPid: number | undefined,
) {
  let next = 0
  const started = performance.now()
  const self = process.cpuUsage()
  const serverCpu = processCpuSeconds(server.child.pid)
  const dynamoCpu = processCpuSeconds(dynamoPid)
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}${workload === 'read-only' ? '/read' : '/change'}`,
    method: workload === 'read-only' ? 'GET' : 'POST',
    connections: CONCURRENCY,
    duration: seconds,
    setupClient: (client: { setHeaders(h: Record<string, string>): void }) => {
      client.setHeaders({ cookie: cookies[next++ % cookies.length] })
    },
  })
  const wall = (performance.now() - started) / 1000
  const used = process.cpuUsage(self)
  const after = {
    server: processCpuSeconds(server.child.pid),
    dynamo: processCpuSeconds(dynamoPid),
  }
  if (result.non2xx || result.errors) {
    throw new Error(`${workload}: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
  }
  return {
    perSecond: result.requests.total / result.duration,
    cores: {
      'load generator': (used.user + used.system) / 1e6 / wall,
      server: cores(after.server === undefined ? undefined : after.server - serverCpu!, wall),
      'DynamoDB Local': cores(
        after.dynamo === undefined ? undefined : after.dynamo - dynamoCpu!,
        wall,
      ),
    } as Cores,
  }
}

/** A process that keeps `share` of one core busy (10 ms slots), until it is killed. */
function burn(share: number): ChildProcess {
  const code = `const share = Number(process.argv[1]); const wait = new Int32Array(new SharedArrayBuffer(4))
for (;;) { const t = performance.now(); while (performance.now() - t < share * 10); Atomics.wait(wait, 0, 0, Math.max(0, 10 - (performance.now() - t))) }`
  return spawn(process.execPath, ['-e', code, String(Math.min(1, share))], { stdio: 'ignore' })
}

/**
 * The raw limit from `runtime`; with `burnShare`, beside a process that burns that share of a core
 * (the load generator's, measured during the server's run).
 */
async function loadRaw(
  runtime: Runtime,
  env: Record<string, string>,
  workload: Workload,
  dynamoPid: number | undefined,
  burnShare?: number,
) {
  const burner = burnShare ? burn(burnShare) : undefined
  try {
    const [cmd, args] = command(runtime, join(BENCH_DIR, 'raw.ts'))
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env, BENCH_WORKLOAD: workload },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    let started = 0
    let dynamoCpu: number | undefined
    let burnerCpu: number | undefined
    let out: { perSecond: number; cpuSeconds: number; seconds: number } | undefined
    let ended: { wall: number; dynamo?: number; burner?: number } | undefined
    for await (const line of createInterface({ input: child.stdout! })) {
      if (line === 'measuring') {
        started = performance.now()
        dynamoCpu = processCpuSeconds(dynamoPid)
        burnerCpu = processCpuSeconds(burner?.pid)
      } else if (line.startsWith('{')) {
        ended = {
          wall: (performance.now() - started) / 1000,
          dynamo: processCpuSeconds(dynamoPid),
          burner: processCpuSeconds(burner?.pid),
        }
        out = JSON.parse(line)
      }
    }
    const code = await exited
    if (!out || !ended || code !== 0) throw new Error(`${runtime} raw.ts exited with ${code}`)
    const delta = (a?: number, b?: number) =>
      a === undefined || b === undefined ? undefined : b - a
    const result: Cores = {
      'raw client': out.cpuSeconds / out.seconds,
      'DynamoDB Local': cores(delta(dynamoCpu, ended.dynamo), ended.wall),
    }
    if (burner) result.burner = cores(delta(burnerCpu, ended.burner), ended.wall)
    return { perSecond: out.perSecond, cores: result }
  } finally {
    burner?.kill()
  }
}

/** CPU µs per request of each process, run by run, then the median. */
function perRequest(runs: Cores[], perSecond: number[]): Cores {
  return medianCores(
    runs.map((c, i) =>
      Object.fromEntries(Object.entries(c).map(([k, v]) => [k, (v / perSecond[i]) * 1e6])),
    ),
  )
}

const sum = (c: Cores, ...keys: string[]) => keys.reduce((t, k) => t + (c[k] ?? Number.NaN), 0)

/** The median of each process's cores over the runs. */
function medianCores(runs: Cores[]): Cores {
  const out: Cores = {}
  for (const key of Object.keys(runs[0] ?? {})) {
    out[key] = stat(runs.map((r) => r[key]).filter((v) => !Number.isNaN(v))).median
  }
  return out
}

export interface ThroughputRow {
  server: Stat
  raw: Stat
  /** The raw limit beside a process burning the load generator's share of a core. */
  rawLoaded: Stat
  /** server ÷ raw */
  ratio: number
  /** server ÷ rawLoaded: like with like, both sides sharing the cores with the same load. */
  ratioLoaded: number
  /** Median cores each process kept busy: during the server's runs, the raw ones, the loaded raw ones. */
  cores: { server: Cores; raw: Cores; rawLoaded: Cores }
  /** Median CPU µs per request of each process, in the server's runs and the raw ones. */
  cpuPerRequest: { server: Cores; raw: Cores }
  /**
   * What the server would reach of the raw limit if CPU were the only limit, with the load
   * generator's work counted on both sides: (raw client + DynamoDB Local + load generator) ÷
   * (server + DynamoDB Local + load generator), in CPU per request.
   */
  cpuBoundRatio: number
}

export interface ThroughputResult {
  machine: Record<string, string>
  seconds: number
  runs: number
  concurrency: number
  results: Record<Runtime, Record<Workload, ThroughputRow>>
}

export async function runThroughput(options: RunOptions): Promise<ThroughputResult> {
  if (!options.endpoint) throw new Error('the throughput benchmark needs DynamoDB Local')
  const seconds = options.smoke ? 0.5 : 4
  const runs = options.smoke ? 1 : 5
  const m = await machine()
  options.log('\n## 5. Throughput (DynamoDB Local, loopback, concurrency 50)\n')
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
  const coreSamples = new Map<string, Cores[]>()
  const keep = (key: string, perSecond: number, used: Cores) => {
    samples.set(key, [...(samples.get(key) ?? []), perSecond])
    coreSamples.set(key, [...(coreSamples.get(key) ?? []), used])
  }
  const dynamoPid = options.dynamoPid
  try {
    for (const runtime of RUNTIMES) {
      servers[runtime] = await startServer(runtime, env)
      cookies[runtime] = await sessions(servers[runtime].port, CONCURRENCY)
    }
    // Round 0 warms up the servers, the JIT and DynamoDB Local; it is dropped (and skipped in smoke runs).
    for (let round = options.smoke ? 1 : 0; round <= runs; round++) {
      for (const runtime of RUNTIMES) {
        for (const workload of WORKLOADS) {
          let generator = 0
          const measure = {
            raw: () => loadRaw(runtime, env, workload, dynamoPid),
            server: async () => {
              const r = await loadServer(
                servers[runtime],
                workload,
                cookies[runtime],
                seconds,
                dynamoPid,
              )
              generator = r.cores['load generator']
              return r
            },
            // After the server's run, whose load generator's share it takes.
            rawLoaded: () => loadRaw(runtime, env, workload, dynamoPid, generator),
          }
          const order =
            round % 2
              ? (['server', 'raw', 'rawLoaded'] as const)
              : (['raw', 'server', 'rawLoaded'] as const)
          for (const which of order) {
            const r = await measure[which]()
            if (round === 0) continue
            keep(`${runtime}\n${workload}\n${which}`, r.perSecond, r.cores)
          }
        }
      }
    }
  } finally {
    for (const runtime of RUNTIMES) if (servers[runtime]) await stopServer(servers[runtime])
  }
  const results = {} as ThroughputResult['results']
  const rows: string[][] = []
  const coreRows: string[][] = []
  const usRows: string[][] = []
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`
  const showCores = (c: Cores) =>
    Object.entries(c)
      .map(([k, v]) => `${k} ${Number.isNaN(v) ? '?' : v.toFixed(2)}`)
      .join(', ')
  for (const runtime of RUNTIMES) {
    results[runtime] = {} as Record<Workload, ThroughputRow>
    for (const workload of WORKLOADS) {
      const key = (which: string) => `${runtime}\n${workload}\n${which}`
      const server = stat(samples.get(key('server'))!)
      const raw = stat(samples.get(key('raw'))!)
      const rawLoaded = stat(samples.get(key('rawLoaded'))!)
      const used = {
        server: medianCores(coreSamples.get(key('server'))!),
        raw: medianCores(coreSamples.get(key('raw'))!),
        rawLoaded: medianCores(coreSamples.get(key('rawLoaded'))!),
      }
      const ratio = server.median / raw.median
      const ratioLoaded = server.median / rawLoaded.median
      const cpuPerRequest = {
        server: perRequest(coreSamples.get(key('server'))!, server.runs),
        raw: perRequest(coreSamples.get(key('raw'))!, raw.runs),
      }
      const generator = cpuPerRequest.server['load generator']
      const cpuBoundRatio =
        (sum(cpuPerRequest.raw, 'raw client', 'DynamoDB Local') + generator) /
        sum(cpuPerRequest.server, 'server', 'DynamoDB Local', 'load generator')
      results[runtime][workload] = {
        server,
        raw,
        rawLoaded,
        ratio,
        ratioLoaded,
        cores: used,
        cpuPerRequest,
        cpuBoundRatio,
      }
      rows.push([
        runtime,
        workload,
        fmt(server, 0),
        fmt(raw, 0),
        fmt(rawLoaded, 0),
        pct(ratio),
        pct(ratioLoaded),
      ])
      coreRows.push([
        runtime,
        workload,
        showCores(used.server),
        showCores(used.raw),
        showCores(used.rawLoaded),
      ])
      const us = (c: Cores) =>
        Object.entries(c)
          .map(([k, v]) => `${k} ${Number.isNaN(v) ? '?' : v.toFixed(0)}`)
          .join(', ')
      usRows.push([
        runtime,
        workload,
        us(cpuPerRequest.server),
        us(cpuPerRequest.raw),
        Number.isNaN(cpuBoundRatio) ? '?' : pct(cpuBoundRatio),
        pct(cpuPerRequest.raw['raw client'] / cpuPerRequest.server.server),
      ])
    }
  }
  options.log(
    `\n${runs} runs of ${seconds} s after a warm-up, server and raw interleaved; requests per second, median (min–max). Raw: the same GetItem (+ UpdateItem) calls from the same runtime, ${CONCURRENCY} at a time, no server. Raw beside the generator's load: the same, with a process burning as much CPU as the load generator used in the server's run just before.\n`,
  )
  options.log(
    table(
      [
        'runtime',
        'workload',
        'server req/s',
        'raw limit req/s',
        "raw beside the generator's load",
        'server ÷ raw',
        'server ÷ raw beside the load',
      ],
      rows,
    ),
  )
  options.log(
    `\nCores each process kept busy (CPU seconds per second, median; the machine has ${m.cpu.split('× ')[1] ?? '?'}):\n`,
  )
  options.log(
    table(['runtime', 'workload', "server's run", 'raw run', 'raw run beside the load'], coreRows),
  )
  options.log(
    "\nCPU µs per request of each process (median of the runs), and what the server would reach of the raw limit if CPU were all that limits both, the load generator's work counted on both sides: (raw client + DynamoDB Local + load generator) ÷ (server + DynamoDB Local + load generator). Unlike requests per second, these figures hold when other processes share the machine. The server and the raw client each run JavaScript on one thread: when that thread is the limit, the server reaches about (raw client ÷ server) of the raw limit, the last column.\n",
  )
  options.log(
    table(
      [
        'runtime',
        'workload',
        "server's run, µs / request",
        'raw run, µs / request',
        'CPU-bound ratio',
        'raw client ÷ server, µs / request',
      ],
      usRows,
    ),
  )
  const result: ThroughputResult = { machine: m, seconds, runs, concurrency: CONCURRENCY, results }
  await writeResult(options, 'throughput', result)
  return result
}
