// The throughput benchmark's raw limit: the same GetItem (and UpdateItem) calls the middleware
// makes per request, sent straight to DynamoDB Local through the library's own store functions and
// client, by the runtime that runs this file, without Hono or HTTP in front. Prints
// `{"perSecond":…}`: request equivalents completed per second.
import { createClient } from '../src/client.ts'
import { newId, storedKey } from '../src/cookie.ts'
import { getItem, putItem, type SessionTable, updateItem } from '../src/store.ts'
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
    putItem(table, key, {
      data: { user: 'bench' },
      flash: {},
      expires: now() + 86400,
      created: now(),
    }),
  ),
)

async function once(key: string) {
  const item = await getItem(table, key, true)
  if (!item) throw new Error('the seeded session is missing')
  if (!changing) return
  const t = now()
  await updateItem(table, key, {
    set: { cart: [String(Date.now())] },
    remove: [],
    increment: {},
    flashSet: {},
    flashRemove: [],
    expires: t + 86400,
    now: t,
    size: { data: { user: 'bench', cart: [String(Date.now())] }, flash: {} },
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
console.log(JSON.stringify({ perSecond: await load(seconds * 1000) }))
