// `npm run bench`: the four benchmarks in one run, their tables on stdout, results in
// bench/results/*.json and the chart in bench/chart.svg. `--smoke` runs each with tiny counts
// into bench/out/ instead (the test suite does that); `--only size,cpu,cost,throughput` picks some.
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startDynamoDBLocal } from '../tests/dynamodb-local.ts'
import { chart } from './chart.ts'
import { type CostResult, runCost } from './cost.ts'
import { type CpuResult, runCpu } from './cpu.ts'
import { BENCH_DIR, BIN, type RunOptions } from './lib.ts'
import { runSize, type SizeResult } from './size.ts'
import { runThroughput, type ThroughputResult } from './throughput.ts'

export const BENCHMARKS = ['size', 'cpu', 'cost', 'throughput'] as const
export type Benchmark = (typeof BENCHMARKS)[number]

export interface BenchOutcome {
  size?: SizeResult
  cpu?: CpuResult
  cpuBun?: CpuResult
  cost?: CostResult
  throughput?: ThroughputResult
  targets: { target: string; measured: string; met: boolean }[]
}

/** Each target of the issue, with the figure it was judged on. */
function judge(r: BenchOutcome): BenchOutcome['targets'] {
  const targets: BenchOutcome['targets'] = []
  if (r.size) {
    const added = r.size.addedGzip['ours (dynamoSession)'] / 1024
    targets.push({
      target: 'bundle: ours adds ≤ 8 KB gzipped (aim 6)',
      measured: `${added.toFixed(1)} KB (SDK baseline ${(r.size.addedGzip['SDK baseline'] / 1024).toFixed(1)} KB)`,
      met: added <= 8,
    })
  }
  for (const cpu of [r.cpu, r.cpuBun]) {
    if (!cpu) continue
    const runtime = cpu.runtime.split(' ')[0]
    for (const scenario of ['read-only session', 'changed session'] as const) {
      const o = cpu.overhead[scenario]
      const ours = o['ours (aws4fetch)']
      targets.push({
        target: `CPU (${runtime}), ${scenario}: ours ≤ 1/3 of the SDK baseline's overhead`,
        measured: `${ours.toFixed(0)} µs vs ${o['SDK baseline'].toFixed(0)} µs (${(ours / o['SDK baseline']).toFixed(2)}×)`,
        met: ours <= o['SDK baseline'] / 3,
      })
      for (const variant of ['encrypted id', 'plain id'] as const) {
        const theirs = o[`hono-sessions, memory, ${variant}`]
        targets.push({
          target: `CPU (${runtime}), ${scenario}: ours within 2× of hono-sessions' memory store (${variant})`,
          measured: `${ours.toFixed(0)} µs vs ${theirs.toFixed(0)} µs (${(ours / theirs).toFixed(2)}×)`,
          met: ours <= 2 * theirs,
        })
      }
    }
  }
  if (r.cost) {
    const ours = r.cost.results['ours (dynamoSession)']
    const theirs = r.cost.results['express-session + connect-dynamodb']
    targets.push({
      target: 'cost: our write units ≤ 1/5 of express-session + connect-dynamodb',
      measured: `${ours.wcu.median} vs ${theirs.wcu.median} (${(ours.wcu.median / theirs.wcu.median).toFixed(2)}×)`,
      met: ours.wcu.median <= theirs.wcu.median / 5,
    })
    targets.push({
      target: 'cost: our reads ≤ theirs',
      measured: `${ours.reads.median} vs ${theirs.reads.median}`,
      met: ours.reads.median <= theirs.reads.median,
    })
  }
  if (r.throughput) {
    for (const [runtime, workloads] of Object.entries(r.throughput.results)) {
      for (const [workload, { ratio }] of Object.entries(workloads)) {
        targets.push({
          target: `throughput, ${runtime} ${workload}: ≥ 90% of the raw limit`,
          measured: `${(ratio * 100).toFixed(0)}%`,
          met: ratio >= 0.9,
        })
      }
    }
  }
  return targets
}

/** Benchmark 2 again, in a Bun process; its table is printed as it comes. */
async function cpuOnBun(o: RunOptions): Promise<CpuResult> {
  const args = [join(BENCH_DIR, 'cpu-bun.ts'), o.outDir, o.smoke ? 'smoke' : 'full']
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
    execFile(join(BIN, 'bun'), args, { maxBuffer: 1 << 24 }, (error, stdout) =>
      error ? reject(error) : resolve({ stdout }),
    )
  })
  o.log(stdout.trimEnd())
  return JSON.parse(await readFile(join(o.outDir, 'cpu-bun.json'), 'utf8'))
}

/** Runs the chosen benchmarks; starts DynamoDB Local unless an endpoint is given. */
export async function bench(
  only: readonly Benchmark[],
  options: Omit<RunOptions, 'endpoint'> & { endpoint?: string },
): Promise<BenchOutcome> {
  const needsDynamo = only.includes('cost') || only.includes('throughput')
  const local = needsDynamo && !options.endpoint ? await startDynamoDBLocal() : undefined
  const o: RunOptions = { ...options, endpoint: options.endpoint ?? local?.endpoint }
  const outcome: BenchOutcome = { targets: [] }
  try {
    if (only.includes('size')) outcome.size = await runSize(o)
    if (only.includes('cpu')) {
      outcome.cpu = await runCpu(o)
      outcome.cpuBun = await cpuOnBun(o)
    }
    if (only.includes('cost')) outcome.cost = await runCost(o)
    if (only.includes('throughput')) outcome.throughput = await runThroughput(o)
  } finally {
    await local?.stop()
  }
  outcome.targets = judge(outcome)
  o.log('\n## Targets\n')
  for (const t of outcome.targets)
    o.log(`- ${t.met ? 'met' : 'MISSED'}: ${t.target}: ${t.measured}`)
  return outcome
}

async function main() {
  const args = process.argv.slice(2)
  const smoke = args.includes('--smoke')
  const at = args.indexOf('--only')
  const only = at >= 0 ? (args[at + 1].split(',') as Benchmark[]) : [...BENCHMARKS]
  const outDir = join(BENCH_DIR, smoke ? 'out' : 'results')
  const started = Date.now()
  const outcome = await bench(only, {
    smoke,
    outDir,
    endpoint: process.env.BENCH_DYNAMODB_ENDPOINT,
    log: (line) => console.log(line),
  })
  // The chart needs both figures: take the other from the last committed results if not rerun.
  const load = async <T>(name: string): Promise<T | undefined> => {
    try {
      return JSON.parse(await readFile(join(outDir, `${name}.json`), 'utf8'))
    } catch {
      return undefined
    }
  }
  const cpu = outcome.cpu ?? (await load<CpuResult>('cpu'))
  const cpuBun = outcome.cpuBun ?? (await load<CpuResult>('cpu-bun'))
  const size = outcome.size ?? (await load<SizeResult>('size'))
  if (cpu && size) {
    const file = smoke ? join(BENCH_DIR, 'out', 'chart.svg') : join(BENCH_DIR, 'chart.svg')
    await writeFile(file, chart(cpu, size, cpuBun))
    console.log(`\nchart: ${file}`)
  }
  await writeFile(join(outDir, 'targets.json'), `${JSON.stringify(outcome.targets, null, 2)}\n`)
  console.log(`\nbench finished in ${((Date.now() - started) / 1000).toFixed(0)} s`)
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
