// The throughput benchmark's raw limit: the same GetItem (and UpdateItem) calls the middleware
// makes per request, sent straight to DynamoDB Local through the library's own store functions and
// client, by the runtime that runs this file, without Hono or HTTP in front. Prints `measuring`
// when the measured window starts, then `{"perSecond":…,"cpuSeconds":…,"seconds":…}`: request
// equivalents completed per second, and the CPU this process used in the window.
import { createClient } from '../src/client.ts'
import type { SessionTable } from '../src/connection.ts'
import { newId, storedKey } from '../src/cookie.ts'
import { parseItem } from '../src/store/item.ts'
import { createItem, getItem, updateItem } from '../src/store/store.ts'
import { newStamp, tokenKeepMs } from '../src/store/tokens.ts'
import { credentials } from './lib.ts'

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50)
const seconds = Number(process.env.BENCH_SECONDS ?? 4)
const changing = process.env.BENCH_WORKLOAD === 'changing'

const table: SessionTable = {
  name: process.env.BENCH_TABLE ?? 'sessions',
  send: createClient({
    region: 'us-east-1',
    endpoint: process.env.BENCH_ENDPOINT ?? '',
    credentials,
    fetch: (input, init) => fetch(input, init),
    retry: { attempts: 4, timeoutMs: 3000, budgetMs: 10000 },
  }),
}

const now = () => Math.floor(Date.now() / 1000)
// One session per worker, as each load-generator connection has its own cookie.
const keys = await Promise.all(Array.from({ length: concurrency }, () => storedKey(newId())))
await Promise.all(
  keys.map((key) =>
    createItem(
      table,
      key,
      {
        data: { user: 'bench' },
        flash: {},
        expires: now() + 86400,
        created: now(),
        handle: 'bench',
      },
      newStamp(),
    ),
  ),
)

async function once(key: string) {
  const t = now()
  const found = parseItem(await getItem(table, key, true), t)
  if (found.state !== 'live') throw new Error('the seeded session is missing')
  const stored = found.session
  if (!changing) return
  // What the middleware writes when a handler sets one key: that key, the expiry, a write token.
  await updateItem(table, key, {
    changes: { set: { cart: [String(Date.now())] }, remove: [], increment: {}, flash: {} },
    stored,
    expires: t + 86400,
    now: t,
    stamp: newStamp(),
    keepMs: tokenKeepMs(10_000),
  })
}

async function load(ms: number): Promise<number> {
  let done = 0
  const end = performance.now() + ms
  await Promise.all(
    keys.map(async (key) => {
      while (performance.now() < end) {
        await once(key)
        done++
      }
    }),
  )
  return done / (ms / 1000)
}

await load(Math.min(1000, seconds * 250))
console.log('measuring')
const cpu = process.cpuUsage()
const perSecond = await load(seconds * 1000)
const used = process.cpuUsage(cpu)
console.log(JSON.stringify({ perSecond, cpuSeconds: (used.user + used.system) / 1e6, seconds }))
