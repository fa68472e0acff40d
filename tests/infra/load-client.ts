// The load generator of tests/infra/load.ts, run as a child process so that the load comes from
// another process over loopback: autocannon alternates a read and an increment on every
// connection and tallies the status codes of each kind. Prints one JSON line.
//
//   node --import tsx tests/infra/load-client.ts '{"url":"http://127.0.0.1:PORT","cookie":"sid=…","amount":5000,"connections":50}'
import { createRequire } from 'node:module'

/** The part of autocannon's API used here (it ships no types). */
type Autocannon = (options: {
  url: string
  amount: number
  connections: number
  timeout: number
  headers: Record<string, string>
  requests: { method: string; path: string; onResponse: (status: number) => void }[]
}) => Promise<{
  errors: number
  timeouts: number
  non2xx: number
  duration: number
  requests: { average: number }
  latency: { p50: number; p99: number }
}>

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

const { url, cookie, amount, connections } = JSON.parse(process.argv[2] ?? '{}') as {
  url: string
  cookie: string
  amount: number
  connections: number
}

const tally = { read: {} as Record<number, number>, increment: {} as Record<number, number> }
const count = (kind: keyof typeof tally) => (status: number) => {
  tally[kind][status] = (tally[kind][status] ?? 0) + 1
}

const result = await autocannon({
  url,
  amount,
  connections,
  timeout: 30,
  headers: { cookie },
  requests: [
    { method: 'GET', path: '/read', onResponse: count('read') },
    { method: 'POST', path: '/increment', onResponse: count('increment') },
  ],
})

process.stdout.write(
  `${JSON.stringify({
    tally,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    durationSeconds: result.duration,
  })}\n`,
)
