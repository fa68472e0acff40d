// Benchmark 1: what the middleware adds to a Worker bundle (esbuild, minified, gzip -9), and the
// cold start (import + first request) of that bundle on Node and Bun, in fresh processes.
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import {
  BENCH_DIR,
  BIN,
  describeMachine,
  fmt,
  machine,
  type RunOptions,
  rotate,
  SECRET,
  type Stat,
  stat,
  table,
  writeResult,
} from './lib.ts'

const run = promisify(execFile)

export const WORKERS = {
  'Hono alone': 'hono-only',
  'ours (dynamoSession)': 'ours',
  'SDK baseline': 'sdk',
} as const
type Worker = keyof typeof WORKERS

/** Names that only the table tools and the CLI use: none may reach a middleware-only bundle. */
const TABLE_TOOL_MARKERS = [
  'CreateTable',
  'DescribeTimeToLive',
  'UpdateTimeToLive',
  'sweepExpired',
  'looks like milliseconds',
]

export interface Bundle {
  minified: number
  gzip: number
  /** Bytes each package or source folder of interest contributes, minified. */
  contributions: Record<string, number>
  tableToolMarkers: string[]
}

async function bundle(entry: string, outFile: string): Promise<Bundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    // What wrangler does for a Worker: the browser builds of packages, workerd's conditions.
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    metafile: true,
    write: false,
  })
  const code = result.outputFiles[0].contents
  await writeFile(outFile, code)
  const inputs = Object.values(result.metafile.outputs)[0].inputs
  const contributions: Record<string, number> = {}
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const group = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(path)?.[1] ?? path.split('/')[0]
    if (bytesInOutput > 0) contributions[group] = (contributions[group] ?? 0) + bytesInOutput
  }
  const text = new TextDecoder().decode(code)
  return {
    minified: code.length,
    gzip: gzipSync(code, { level: 9 }).length,
    contributions,
    tableToolMarkers: TABLE_TOOL_MARKERS.filter((m) => text.includes(m)),
  }
}

interface ColdStart {
  importMs: number
  firstRequestMs: number
  totalMs: number
}

async function startCold(runtime: 'node' | 'bun', file: string): Promise<ColdStart> {
  const command = runtime === 'node' ? process.execPath : join(BIN, 'bun')
  const { stdout } = await run(command, [join(BENCH_DIR, 'cold-start.mjs'), file], {
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
      SESSION_SECRET: SECRET,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  })
  const out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}')
  if (out.status !== 200)
    throw new Error(`${runtime} ${file}: first request answered ${out.status}`)
  return out
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1)

export interface SizeResult {
  machine: Record<string, string>
  bundles: Record<Worker, Bundle>
  addedGzip: Record<Worker, number>
  coldStart: Record<string, Record<Worker, Stat>>
  runs: number
}

export async function runSize(options: RunOptions): Promise<SizeResult> {
  const m = await machine()
  options.log('\n## 1. Bundle size and cold start\n')
  options.log(describeMachine(m))
  const dir = join(BENCH_DIR, 'out', options.smoke ? 'smoke-workers' : 'workers')
  await mkdir(dir, { recursive: true })
  const names = Object.keys(WORKERS) as Worker[]
  const bundles = {} as Record<Worker, Bundle>
  const files = {} as Record<Worker, string>
  for (const name of names) {
    files[name] = join(dir, `${WORKERS[name]}.mjs`)
    bundles[name] = await bundle(join(BENCH_DIR, 'workers', `${WORKERS[name]}.ts`), files[name])
  }
  const base = bundles['Hono alone'].gzip
  const addedGzip = {} as Record<Worker, number>
  for (const name of names) addedGzip[name] = bundles[name].gzip - base
  const c = (name: Worker, pkg: string) => bundles[name].contributions[pkg] ?? 0
  options.log(
    '\nesbuild, minified, browser/workerd conditions; gzip -9 (node:zlib level 9); KB = 1024 bytes\n',
  )
  options.log(
    table(
      [
        'Worker',
        'minified KB',
        'gzip KB',
        'added to Hono, gzip KB',
        'aws4fetch bytes',
        'AWS SDK bytes',
        'table tools / CLI in bundle',
      ],
      names.map((name) => [
        name,
        kb(bundles[name].minified),
        kb(bundles[name].gzip),
        name === 'Hono alone' ? '–' : kb(addedGzip[name]),
        c(name, 'aws4fetch'),
        Object.entries(bundles[name].contributions)
          .filter(([k]) => k.startsWith('@aws-sdk/') || k.startsWith('@smithy/'))
          .reduce((sum, [, v]) => sum + v, 0),
        bundles[name].tableToolMarkers.length ? bundles[name].tableToolMarkers.join(', ') : 'no',
      ]),
    ),
  )

  const runs = options.smoke ? 1 : 11
  const runtimes = ['node', 'bun'] as const
  const samples = new Map<string, number[]>()
  // Round 0 warms the file cache and is dropped.
  for (let round = 0; round <= runs; round++) {
    for (const runtime of runtimes) {
      for (const name of rotate(names, round)) {
        const t = await startCold(runtime, files[name])
        if (round === 0) continue
        const key = `${runtime}\n${name}`
        samples.set(key, [...(samples.get(key) ?? []), t.totalMs])
      }
    }
  }
  const coldStart = {} as SizeResult['coldStart']
  for (const runtime of runtimes) {
    coldStart[runtime] = {} as Record<Worker, Stat>
    for (const name of names) coldStart[runtime][name] = stat(samples.get(`${runtime}\n${name}`)!)
  }
  options.log(
    `\nCold start: import of the bundle + first request (a new session written to an instant fake DynamoDB), in a fresh process; ${runs} runs after a warm-up, interleaved; ms, median (min–max)\n`,
  )
  options.log(
    table(
      ['Worker', 'Node', 'Bun'],
      names.map((name) => [name, fmt(coldStart.node[name]), fmt(coldStart.bun[name])]),
    ),
  )
  const result: SizeResult = { machine: m, bundles, addedGzip, coldStart, runs }
  await writeResult(options, 'size', result)
  return result
}
