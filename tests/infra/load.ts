// The load run shared by tests/node/load.test.ts (correctness) and bench/load.ts (speed): a Node
// HTTP server (@hono/node-server) with the middleware, loaded over loopback from a child process
// (tests/infra/load-client.ts, autocannon) with reads and increments of one session, half each.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { type DynamoSessionOptions, dynamoSession, type SessionEnv } from '../../src/index.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLIENT = fileURLToPath(new URL('load-client.ts', import.meta.url))

export interface LoadResult {
  /** Status code counts of each kind of request. */
  tally: { read: Record<string, number>; increment: Record<string, number> }
  errors: number
  timeouts: number
  non2xx: number
  requestsPerSecond: number
  /** Latency percentiles in milliseconds. */
  p50: number
  p99: number
  durationSeconds: number
  /** The session's count after the run. */
  finalCount: number
}

/** Requests of a kind that got a 2xx. */
export const ok = (counts: Record<string, number>): number =>
  Object.entries(counts)
    .filter(([status]) => status.startsWith('2'))
    .reduce((sum, [, n]) => sum + n, 0)

/** Serves the middleware on a free port, loads it from a child process, returns the figures. */
export async function runLoad(
  options: DynamoSessionOptions<{ n: number }>,
  load: { amount: number; connections: number },
): Promise<LoadResult> {
  const app = new Hono<SessionEnv<{ n: number }>>()
  app.use(dynamoSession<{ n: number }>(options))
  app.get('/read', (c) => c.json({ n: c.get('session').get('n') ?? 0 }))
  app.post('/increment', (c) => {
    c.get('session').increment('n')
    return c.text('ok')
  })
  const seeded = await app.request('/increment', { method: 'POST' })
  const cookie = (seeded.headers.get('set-cookie') ?? '').split(';')[0]
  if (seeded.status !== 200 || !cookie) throw new Error(`seeding the session gave ${seeded.status}`)

  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
        resolve({ server, port: info.port }),
      )
    },
  )
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          CLIENT,
          JSON.stringify({ url: `http://127.0.0.1:${port}`, cookie, ...load }),
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      )
      let text = ''
      child.stdout.on('data', (d) => {
        text += d
      })
      child.on('error', reject)
      child.on('exit', (code) =>
        code === 0 ? resolve(text) : reject(new Error(`the load client exited with ${code}`)),
      )
    })
    const figures = JSON.parse(out.trim().split('\n').pop() ?? '{}')
    const read = await app.request('/read', { headers: { cookie } })
    const { n } = (await read.json()) as { n: number }
    // The seeding request made the first increment.
    return { ...figures, finalCount: n - 1 }
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
}
