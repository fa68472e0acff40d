// Benchmark 2: CPU per request. app.request() in a loop against an in-process DynamoDB that answers
// at once, so the time is the middleware's own: cookie crypto, signing, (un)marshalling, Hono.
import type { Hono } from 'hono'
import { CANDIDATES, type Candidate, makeApp } from './apps.ts'
import { fakeDynamoDB } from './fake-dynamodb.ts'
import {
  describeMachine,
  fmt,
  machine,
  type RunOptions,
  rotate,
  type Stat,
  stat,
  table,
  writeResult,
} from './lib.ts'

const SCENARIOS = ['no session', 'read-only session', 'changed session'] as const
type Scenario = (typeof SCENARIOS)[number]

interface Subject {
  candidate: Candidate
  app: Hono
  cookie: string
}

/** Starts a session the way a browser would, and keeps the cookie it gets back. */
async function login(app: Hono): Promise<string> {
  const res = await app.request('/login', { method: 'POST' })
  const header = res.headers.getSetCookie()[0]
  return header ? header.split(';')[0] : ''
}

function requestOf(scenario: Scenario, cookie: string): [string, RequestInit] {
  if (scenario === 'no session') return ['http://localhost/none', {}]
  if (scenario === 'read-only session') return ['http://localhost/read', { headers: { cookie } }]
  return ['http://localhost/change', { method: 'POST', headers: { cookie } }]
}

/**
 * CPU µs (user + system, every thread of the process: Web Crypto runs on libuv's pool) and wall
 * µs per request over `n` sequential requests. Wall time also counts the waits for the crypto
 * pool, which on a busy machine are mostly someone else's CPU, so CPU time is the figure compared.
 */
async function measure(
  subject: Subject,
  scenario: Scenario,
  n: number,
): Promise<{ cpu: number; wall: number }> {
  const [url, init] = requestOf(scenario, subject.cookie)
  const wall = performance.now()
  const cpu = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const res = await subject.app.request(url, init)
    if (res.status !== 200) throw new Error(`${subject.candidate} ${scenario}: ${res.status}`)
    await res.arrayBuffer()
  }
  const used = process.cpuUsage(cpu)
  return { cpu: (used.user + used.system) / n, wall: ((performance.now() - wall) * 1000) / n }
}

const BUN = (globalThis as { Bun?: { version: string } }).Bun
const RUNTIME = BUN ? `Bun ${BUN.version}` : `Node ${process.version}`

export interface CpuResult {
  runtime: string
  machine: Record<string, string>
  requestsPerRun: number
  runs: number
  results: Record<Scenario, Record<Candidate, Stat>>
  wall: Record<Scenario, Record<Candidate, Stat>>
  overhead: Record<Scenario, Record<Candidate, number>>
}

export async function runCpu(options: RunOptions): Promise<CpuResult> {
  const n = options.smoke ? 20 : 1000
  const runs = options.smoke ? 1 : 5
  const m = await machine()
  options.log(`\n## 2. CPU per request (${RUNTIME}, app.request, fake DynamoDB)\n`)
  options.log(describeMachine(m))
  const subjects: Subject[] = []
  for (const candidate of CANDIDATES) {
    const fake = fakeDynamoDB()
    const app = await makeApp(candidate, { table: 'bench', endpoint: 'http://fake.local', ...fake })
    subjects.push({ candidate, app, cookie: await login(app) })
    if (candidate.startsWith('ours') || candidate === 'SDK baseline') {
      if (fake.calls.PutItem !== 1) throw new Error(`${candidate}: login did not store a session`)
    }
  }
  const samples = new Map<string, number[]>()
  const walls = new Map<string, number[]>()
  // Round 0 is the warm-up (JIT, key caches); its figures are dropped.
  for (let round = 0; round <= runs; round++) {
    for (const scenario of SCENARIOS) {
      for (const subject of rotate(subjects, round)) {
        const us = await measure(subject, scenario, round === 0 ? Math.max(n / 2, 10) : n)
        if (round === 0) continue
        const key = `${scenario}\n${subject.candidate}`
        samples.set(key, [...(samples.get(key) ?? []), us.cpu])
        walls.set(key, [...(walls.get(key) ?? []), us.wall])
      }
    }
  }
  const results = {} as CpuResult['results']
  const wall = {} as CpuResult['wall']
  const overhead = {} as CpuResult['overhead']
  for (const scenario of SCENARIOS) {
    results[scenario] = {} as Record<Candidate, Stat>
    wall[scenario] = {} as Record<Candidate, Stat>
    overhead[scenario] = {} as Record<Candidate, number>
    for (const candidate of CANDIDATES) {
      results[scenario][candidate] = stat(samples.get(`${scenario}\n${candidate}`)!)
      wall[scenario][candidate] = stat(walls.get(`${scenario}\n${candidate}`)!)
    }
    const base = results[scenario]['no middleware'].median
    for (const candidate of CANDIDATES) {
      overhead[scenario][candidate] = results[scenario][candidate].median - base
    }
  }
  const rows = SCENARIOS.flatMap((scenario) =>
    CANDIDATES.map((candidate) => {
      const o = overhead[scenario][candidate]
      const ours = overhead[scenario]['ours (aws4fetch)']
      return [
        scenario,
        candidate,
        fmt(results[scenario][candidate], 0),
        wall[scenario][candidate].median.toFixed(0),
        candidate === 'no middleware' ? '–' : o.toFixed(0),
        candidate === 'no middleware' || candidate.startsWith('ours')
          ? '–'
          : `${(ours / o).toFixed(2)}`,
      ]
    }),
  )
  options.log(
    `${runs} runs of ${n} requests after a warm-up, candidates interleaved; CPU as median (min–max)\n`,
  )
  options.log(
    table(
      [
        'scenario',
        'candidate',
        'CPU µs / request',
        'wall µs',
        'CPU overhead µs',
        'ours ÷ this (overhead)',
      ],
      rows,
    ),
  )
  const result: CpuResult = {
    runtime: RUNTIME,
    machine: m,
    requestsPerRun: n,
    runs,
    results,
    wall,
    overhead,
  }
  await writeResult(options, BUN ? 'cpu-bun' : 'cpu', result)
  return result
}
