// Benchmark 8: several regions. A browser whose nearest region (eu-west-1) is 10 ms away and
// whose session's home (us-east-1) is 150 ms away: the latency of a page view, a change, a
// sign-in and a sign-out with a single-region table in the home region, against globalTable().
// The delays are injected in front of memoryDynamoDB({ regions }) per region (its calls are
// routed by their signature's region), so the figures are the round trips the routing makes,
// not a network's noise. And what replication costs: the write units of each request in the
// home region, and the replicated write units global tables bill in every other region.
import { Hono } from 'hono'
import { createSessionTable, dynamoSession, globalTable, type SessionEnv } from '../src/index.ts'
import { type MemoryGlobalDynamoDB, memoryDynamoDB } from '../src/testing/index.ts'
import { credentials, type RunOptions, SECRET, stat, table, writeResult } from './lib.ts'

const [US, EU, AP] = ['us-east-1', 'eu-west-1', 'ap-southeast-2']
const REGIONS = [US, EU, AP]
/** Milliseconds from the app to each region: a replica next door, the home across an ocean. */
export const DELAYS: Record<string, number> = { [US]: 150, [EU]: 10, [AP]: 150 }
const SCOPE = /Credential=[^/]+\/\d{8}\/([^/]+)\//

type Data = { cart: string[] }

const KINDS = {
  'page view': ['GET', '/'],
  'page view just after its own change (replica behind)': ['GET', '/'],
  change: ['POST', '/cart'],
  'sign-in (regenerate)': ['POST', '/login'],
  'sign-out (destroy)': ['POST', '/logout'],
} as const
type Kind = keyof typeof KINDS

/** The app; `near` says where it runs (which region is nearest). */
function app(db: MemoryGlobalDynamoDB, global: boolean, near: { region: string }) {
  const units = { wcu: 0 }
  const delayed: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers)
    const region = SCOPE.exec(headers.get('authorization') ?? '')?.[1] ?? US
    await new Promise((r) => setTimeout(r, DELAYS[region]))
    const res = await db.fetch(input, init)
    if (/(Put|Update|Delete)Item$/.test(headers.get('x-amz-target') ?? '')) {
      const out = await res.clone().json()
      units.wcu += Number(out?.ConsumedCapacity?.CapacityUnits ?? 0)
    }
    return res
  }
  const a = new Hono<SessionEnv<Data>>()
  a.use(
    dynamoSession<Data>({
      table: global
        ? globalTable({
            name: 'sessions',
            regions: REGIONS,
            nearest: () => near.region,
            endpoint: () => 'http://memory.bench',
          })
        : 'sessions',
      region: US,
      endpoint: 'http://memory.bench',
      credentials,
      fetch: delayed,
      secret: SECRET,
    }),
  )
  a.get('/', (c) => c.json(c.get('session').get('cart') ?? []))
  a.post('/cart', (c) => {
    const s = c.get('session')
    s.set('cart', [...(s.get('cart') ?? []), `sku-${(s.get('cart') ?? []).length}`])
    return c.text('ok')
  })
  a.post('/login', (c) => {
    c.get('session').regenerate()
    return c.text('welcome')
  })
  a.post('/logout', (c) => {
    c.get('session').destroy()
    return c.text('bye')
  })
  return { app: a, units }
}

/** One request of `kind` from a browser whose session was made at the home and replicated. */
async function once(global: boolean, kind: Kind): Promise<{ ms: number; wcu: number }> {
  const db = memoryDynamoDB({ regions: REGIONS, replicationLagMs: 3_600_000 })
  await createSessionTable({
    region: US,
    endpoint: 'http://memory.bench',
    credentials,
    fetch: db.fetch,
  })
  const near = { region: US }
  const { app: a, units } = app(db, global, near)
  // The browser's cookies: the session's, and with globalTable() the region's (home, version).
  const jar = new Map<string, string>()
  const keep = (res: Response) => {
    for (const set of res.headers.getSetCookie()) {
      const [name, value] = set.split(';')[0].split('=')
      jar.set(name, value)
    }
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  }
  let cookie = keep(await a.request('/cart', { method: 'POST' }))
  if (!jar.has('sid')) throw new Error('no session cookie after a change')
  await db.settle()
  near.region = EU
  if (kind.includes('just after')) {
    cookie = keep(await a.request('/cart', { method: 'POST', headers: { cookie } }))
  }
  const [method, path] = KINDS[kind]
  units.wcu = 0
  const started = performance.now()
  const res = await a.request(path, { method, headers: { cookie } })
  await res.arrayBuffer()
  const ms = performance.now() - started
  if (res.status !== 200) throw new Error(`${global ? 'global' : 'single'} ${kind}: ${res.status}`)
  return { ms, wcu: units.wcu }
}

export interface RegionsRow {
  single: number
  global: number
  /** Write units in the home region, and billed again in each of the other regions. */
  wcu: number
}

export async function runRegions(options: RunOptions): Promise<Record<Kind, RegionsRow>> {
  const samples = options.smoke ? 2 : 15
  const rows = {} as Record<Kind, RegionsRow>
  for (const kind of Object.keys(KINDS) as Kind[]) {
    const single: number[] = []
    const global: number[] = []
    let wcu = 0
    for (let i = 0; i < samples; i++) {
      single.push((await once(false, kind)).ms)
      const g = await once(true, kind)
      global.push(g.ms)
      wcu = g.wcu
    }
    rows[kind] = { single: stat(single).median, global: stat(global).median, wcu }
  }
  options.log('## 8. Several regions: round trips and replicated writes\n')
  options.log(
    `${samples} requests of each kind, from an app ${DELAYS[EU]} ms from eu-west-1 and ${DELAYS[US]} ms from us-east-1 and ap-southeast-2 (delays injected per region in front of memoryDynamoDB({ regions })), each from a browser whose session was created in us-east-1 (its home) and replicated. Single region: table in us-east-1. Global: globalTable() over the three regions, nearest eu-west-1. Median ms.\n`,
  )
  options.log(
    table(
      ['request', 'single region (us-east-1)', 'globalTable(), nearest eu-west-1', 'saved'],
      (Object.keys(rows) as Kind[]).map((k) => [
        k,
        rows[k].single.toFixed(0),
        rows[k].global.toFixed(0),
        (rows[k].single - rows[k].global).toFixed(0),
      ]),
    ),
  )
  options.log(
    `\nWrite units per request (items of a few hundred bytes): in the region written, and billed again as replicated write units in each of the ${REGIONS.length - 1} other regions.\n`,
  )
  options.log(
    table(
      [
        'request',
        'write units, region written',
        'replicated, per other region',
        'total, 3 regions',
      ],
      (Object.keys(rows) as Kind[]).map((k) => [
        k,
        rows[k].wcu,
        rows[k].wcu,
        rows[k].wcu * REGIONS.length,
      ]),
    ),
  )
  await writeResult(options, 'regions', { delays: DELAYS, samples, rows })
  return rows
}

// `npx tsx bench/regions.ts`: this benchmark alone, printed.
if (import.meta.url === `file://${process.argv[1]}`) {
  await runRegions({ smoke: false, outDir: 'bench/out', log: (line) => console.log(line) })
}
