// Benchmark 6: where the read path's time goes. Runs bench/profile-read.ts under
// `node --cpu-prof` and `bun --cpu-prof`, and sums the main thread's samples by where the code
// lives: the library's own files, aws4fetch, Hono, the runtime's fetch classes, Web Crypto's
// JavaScript side, the garbage collector, idle. Web Crypto's hashing itself runs off the main
// thread on Node (libuv's pool): there it shows as idle time, between the samples.
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { BENCH_DIR, BIN, ROOT, type RunOptions, table, writeResult } from './lib.ts'

const run = promisify(execFile)

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Where a frame's code lives, as the tables group it. */
function category(frame: ProfileNode['callFrame']): string {
  const { functionName: name, url } = frame
  if (name === '(idle)') return 'idle (waiting: on Node, for Web Crypto on the thread pool)'
  if (name === '(garbage collector)') return 'garbage collector'
  if (name === '(program)' || name === '(root)') return 'runtime, not attributed'
  if (/internal\/modules\/|node_modules\/(tsx|esbuild|get-tsconfig)\//.test(url))
    return 'start-up: loading modules'
  if (url.includes('/src/cookie.ts')) return 'library: src/cookie.ts'
  if (url.includes('/src/client.ts')) return 'library: src/client.ts'
  if (url.includes('/src/marshall.ts')) return 'library: src/marshall.ts'
  if (url.includes('/src/')) return 'library: middleware, session, store, options'
  if (url.includes('node_modules/aws4fetch')) return 'aws4fetch (SigV4 signing)'
  if (url.includes('node_modules/hono')) return 'Hono'
  if (url.includes('/bench/')) return 'benchmark loop and fake DynamoDB'
  if (url.includes('undici') || /\b(fetch|Request|Response|Headers|body)\b/i.test(url))
    return 'fetch classes (Request, Response, Headers)'
  if (url.includes('crypto')) return 'Web Crypto, JavaScript side'
  if (url.startsWith('node:') || url.startsWith('internal') || url.startsWith('builtin'))
    return 'runtime internals (promises, timers, streams)'
  if (!url) return `native: ${name || '(anonymous)'}`
  return 'other'
}

export interface ProfileResult {
  runtime: string
  requests: number
  /** Milliseconds of samples per category, and their share. */
  categories: { category: string; ms: number; share: number }[]
  /** The functions with the most self time. */
  top: { fn: string; where: string; ms: number; share: number }[]
}

function summarize(profile: CpuProfile, runtime: string, requests: number): ProfileResult {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const cats = new Map<string, number>()
  const fns = new Map<string, number>()
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame
    const c = category(frame)
    cats.set(c, (cats.get(c) ?? 0) + us)
    const where = frame.url
      ? `${frame.url.replace(`${ROOT}/`, '').replace(/^file:\/\//, '')}:${frame.lineNumber + 1}`
      : ''
    const key = `${frame.functionName || '(anonymous)'}\n${where.replace(`${ROOT}/`, '')}`
    fns.set(key, (fns.get(key) ?? 0) + us)
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1])
  return {
    runtime,
    requests,
    categories: sorted(cats).map(([category, us]) => ({
      category,
      ms: us / 1000,
      share: us / total,
    })),
    top: sorted(fns)
      .slice(0, 12)
      .map(([key, us]) => {
        const [fn, where] = key.split('\n')
        return { fn, where, ms: us / 1000, share: us / total }
      }),
  }
}

/** Profiles the read path under one runtime; returns the main thread's profile. */
async function profileOn(runtime: 'node' | 'bun', requests: number): Promise<CpuProfile> {
  const dir = await mkdtemp(join(tmpdir(), `bench-profile-${runtime}-`))
  try {
    const script = join(BENCH_DIR, 'profile-read.ts')
    const [cmd, args] =
      runtime === 'node'
        ? [process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', script]]
        : [join(BIN, 'bun'), ['--cpu-prof', `--cpu-prof-dir=${dir}`, script]]
    await run(cmd, [...args, String(requests)], { cwd: ROOT })
    // Node also profiles tsx's loader thread: keep the profile that ran the benchmark loop.
    for (const file of await readdir(dir)) {
      const profile: CpuProfile = JSON.parse(await readFile(join(dir, file), 'utf8'))
      if (profile.nodes.some((n) => n.callFrame.url.includes('profile-read.ts'))) return profile
    }
    throw new Error(`${runtime}: no profile of bench/profile-read.ts was written`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export async function runProfile(options: RunOptions): Promise<ProfileResult[]> {
  const requests = options.smoke ? 200 : 5000
  options.log('\n## 6. Where the read path spends its time (CPU profiles)\n')
  const results: ProfileResult[] = []
  for (const runtime of ['node', 'bun'] as const) {
    const profile = await profileOn(runtime, requests)
    const r = summarize(profile, runtime === 'node' ? `Node ${process.version}` : 'Bun', requests)
    results.push(r)
    options.log(
      `\n${r.runtime}: ${requests} read-only requests (app.request, fake DynamoDB), main thread, self time by where the code lives:\n`,
    )
    options.log(
      table(
        ['where', 'ms', 'share'],
        r.categories
          .filter((c) => c.share >= 0.005)
          .map((c) => [c.category, c.ms.toFixed(0), `${(c.share * 100).toFixed(1)}%`]),
      ),
    )
    options.log(`\nThe functions with the most self time (${r.runtime}):\n`)
    options.log(
      table(
        ['function', 'file:line', 'share'],
        r.top.map((t) => [t.fn, t.where || '–', `${(t.share * 100).toFixed(1)}%`]),
      ),
    )
  }
  await writeResult(options, 'profile', results)
  return results
}
