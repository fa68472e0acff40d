// Benchmark 5: DynamoDB round trips per kind of request, and the latency they add when DynamoDB is
// far away: each DynamoDB-backed store behind the proxy (bench/proxy.ts), first with no delay,
// then with every DynamoDB call held 20 ms, as from an edge location to a region. The latency
// added is the difference of the two; a store that makes two calls in a row pays 40 ms.
import { type Candidate, Jar, MAKERS, NAMES } from './cost.ts'
import {
  describeMachine,
  machine,
  type RunOptions,
  rotate,
  type Stat,
  stat,
  table,
  writeResult,
} from './lib.ts'

export const DELAY_MS = 20

/** The kinds of request, each sent from a browser that holds a live session (but the first). */
const KINDS = {
  cookieless: ['GET', '/'],
  read: ['GET', '/'],
  change: ['POST', '/cart'],
  'login (regenerate)': ['POST', '/login'],
  'logout (destroy)': ['POST', '/logout'],
} as const
type Kind = keyof typeof KINDS

/** The p-th percentile, nearest rank. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

interface Sample {
  calls: number
  ms: number
}

/** One request of `kind`: a session set up first (not measured) unless the kind is cookieless. */
async function once(candidate: Candidate, kind: Kind, delayMs: number): Promise<Sample> {
  const jar = new Jar()
  candidate.proxy.delayMs = 0
  if (kind !== 'cookieless') {
    const res = await candidate.send('POST', '/cart', '')
    await res.arrayBuffer()
    jar.update(res)
    if (!jar.header()) throw new Error(`${candidate.name}: no session cookie after a change`)
  }
  candidate.proxy.delayMs = delayMs
  const [method, path] = KINDS[kind]
  const before = candidate.proxy.meter.total
  const started = performance.now()
  const res = await candidate.send(method, path, jar.header())
  await res.arrayBuffer()
  const ms = performance.now() - started
  candidate.proxy.delayMs = 0
  if (res.status !== 200) throw new Error(`${candidate.name} ${kind}: ${res.status}`)
  return { calls: candidate.proxy.meter.total - before, ms }
}

export interface RoundTripRow {
  calls: Stat
  /** Latency with no delay, and with every DynamoDB call held DELAY_MS. */
  direct: { median: number; p99: number }
  delayed: { median: number; p99: number }
  /** delayed.median - direct.median */
  added: number
}

export interface RoundTripResult {
  machine: Record<string, string>
  delayMs: number
  samples: number
  results: Record<string, Record<Kind, RoundTripRow>>
}

export async function runRoundTrips(options: RunOptions): Promise<RoundTripResult> {
  if (!options.endpoint) throw new Error('the round-trip benchmark needs DynamoDB Local')
  const samples = options.smoke ? 3 : 40
  const m = await machine()
  options.log(`\n## 4. Round trips to DynamoDB and the latency they add (${DELAY_MS} ms away)\n`)
  options.log(describeMachine(m))
  const stamp = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`
  const results: RoundTripResult['results'] = {}
  const kinds = Object.keys(KINDS) as Kind[]
  for (const [i, make] of MAKERS.entries()) {
    const candidate = await make(options.endpoint, `bench-rtt-${i}-${stamp}`)
    try {
      // A warm-up of each kind (connections, JIT, Architect's discovery), then the samples,
      // kinds interleaved and each round at both delays.
      for (const kind of kinds) await once(candidate, kind, 0)
      const raw = new Map<string, Sample[]>()
      for (let round = 0; round < samples; round++) {
        for (const kind of rotate(kinds, round)) {
          for (const delay of round % 2 ? [DELAY_MS, 0] : [0, DELAY_MS]) {
            const key = `${kind}\n${delay}`
            raw.set(key, [...(raw.get(key) ?? []), await once(candidate, kind, delay)])
          }
        }
      }
      const rows = {} as Record<Kind, RoundTripRow>
      for (const kind of kinds) {
        const direct = raw.get(`${kind}\n0`)!
        const delayed = raw.get(`${kind}\n${DELAY_MS}`)!
        const sum = (s: Sample[]) => ({
          median: stat(s.map((x) => x.ms)).median,
          p99: percentile(
            s.map((x) => x.ms),
            99,
          ),
        })
        const d = sum(direct)
        const l = sum(delayed)
        rows[kind] = {
          calls: stat([...direct, ...delayed].map((x) => x.calls)),
          direct: d,
          delayed: l,
          added: l.median - d.median,
        }
      }
      results[candidate.name] = rows
    } finally {
      await candidate.close()
    }
  }
  options.log(
    `\n${samples} requests of each kind per candidate, at no delay and with every DynamoDB call held ${DELAY_MS} ms by a proxy in front of DynamoDB Local; each after a session was set up (except cookieless). Login is \`regenerate()\` (express-session: \`req.session.regenerate\`; Architect has none: it writes the user under the same id); logout is \`destroy()\` (Architect: the session written back without the user). ms; added = median with the delay - median without.\n`,
  )
  const fmtCalls = (s: Stat) =>
    s.min === s.max ? `${s.median}` : `${s.median} (${s.min}–${s.max})`
  options.log(
    table(
      [
        'candidate',
        'request',
        'DynamoDB calls',
        `median ms, ${DELAY_MS} ms away`,
        `p99 ms, ${DELAY_MS} ms away`,
        'added median ms',
        'median ms, no delay',
      ],
      NAMES.filter((name) => results[name]).flatMap((name) =>
        kinds.map((kind) => {
          const r = results[name][kind]
          return [
            name,
            kind,
            fmtCalls(r.calls),
            r.delayed.median.toFixed(1),
            r.delayed.p99.toFixed(1),
            r.added.toFixed(1).replace(/^-0\.0$/, '0.0'),
            r.direct.median.toFixed(1),
          ]
        }),
      ),
    ),
  )
  const result: RoundTripResult = { machine: m, delayMs: DELAY_MS, samples, results }
  await writeResult(options, 'roundtrips', result)
  return result
}
