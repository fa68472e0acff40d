// Shared by every benchmark: machine description, statistics, tables and result files.
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem, type } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The AWS SDK's notice about Node 20 would interleave with the tables; the baseline is unchanged.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

export const BENCH_DIR: string = dirname(fileURLToPath(import.meta.url))
export const ROOT: string = join(BENCH_DIR, '..')
export const BIN: string = join(ROOT, 'node_modules', '.bin')

/** How big a run is: the full benchmark, or a smoke run that only proves the code still works. */
export interface RunOptions {
  smoke: boolean
  /** Where result JSON goes: bench/results for real runs, bench/out for smoke runs. */
  outDir: string
  /** A DynamoDB Local endpoint, for the benchmarks that need one. */
  endpoint?: string
  /** DynamoDB Local's process, when known: the throughput benchmark reads its CPU time. */
  dynamoPid?: number
  log: (line: string) => void
}

export const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' }
export const SECRET = 'a-benchmark-secret-that-is-long-enough-0123456789'

/** The machine and runtimes a figure was measured on, printed above every table. */
export async function machine(): Promise<Record<string, string>> {
  const cpu = cpus()
  const { execFileSync } = await import('node:child_process')
  const version = (cmd: string) => {
    try {
      return execFileSync(cmd, ['--version'], { encoding: 'utf8' }).trim()
    } catch {
      return 'unavailable'
    }
  }
  // Bun answers process.version with the Node version it imitates, not a Node that is installed.
  const bun = (globalThis as { Bun?: unknown }).Bun !== undefined
  return {
    os: `${type()} ${process.arch}`,
    cpu: `${cpu[0]?.model ?? 'unknown'} × ${cpu.length}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GB`,
    node: bun ? version('node') : process.version,
    bun: version(join(BIN, 'bun')),
  }
}

export function describeMachine(m: Record<string, string>): string {
  return `machine: ${m.os}, ${m.cpu}, ${m.memory}; node ${m.node}, bun ${m.bun}`
}

/** Median and spread of repeated measurements. */
export interface Stat {
  median: number
  min: number
  max: number
  runs: number[]
}

export function stat(values: number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: values }
}

/** `12.3 (11.9–12.8)`: the median, then the whole range of the runs. */
export function fmt(s: Stat, digits = 1): string {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`
}

/** Prints a Markdown table, so the output can go into the README as is. */
export function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n')
}

/** Rotates the order candidates run in, so none always runs first (or last) in a round. */
export function rotate<T>(items: T[], round: number): T[] {
  const k = round % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

export async function writeResult(options: RunOptions, name: string, data: unknown) {
  await mkdir(options.outDir, { recursive: true })
  const file = join(options.outDir, `${name}.json`)
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`)
  return file
}

/** A small deterministic PRNG, so every candidate sees the same workload. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * CPU seconds (user + system, all threads) a process has used so far, from /proc (Linux), or
 * undefined where there is no /proc or the process is gone.
 */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}
