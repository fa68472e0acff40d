// Benchmark 7: what per-user sessions cost in DynamoDB calls and capacity units: what binding a
// user adds to a sign-in, a change and a sign-out; a page view of a bound session; listing a
// user's sessions; revoking one, and all. Measured on DynamoDB Local behind the metering proxy
// (bench/proxy.ts), which asks DynamoDB to report capacity, index writes included. Units are
// DynamoDB's sizing rules applied to these items (a session of a few hundred bytes, a 120-character
// User-Agent); they do not vary between runs.
import { Hono } from 'hono'
import {
  createSessionTable,
  dynamoSession,
  listSessions,
  revokeSession,
  revokeSessions,
  type SessionEnv,
} from '../src/index.ts'
import {
  credentials,
  describeMachine,
  machine,
  type RunOptions,
  SECRET,
  table,
  writeResult,
} from './lib.ts'
import { type DynamoProxy, Meter, startProxy } from './proxy.ts'

/** A browser's User-Agent of a usual length: what the list keeps of each device by default. */
const USER_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15'

/** What one operation cost. */
export interface UserCost {
  what: string
  calls: Record<string, number>
  rcu: number
  wcu: number
}

export interface UsersResult {
  machine: Record<string, string>
  /** The middleware's requests, anonymous against bound. */
  requests: UserCost[]
  /** The user tools, for a user with `n` sessions. */
  tools: UserCost[]
}

type Data = { name: string; cart: string[] }

/** The app: sign in with or without binding the user, change the cart, read, sign out. */
function app(conn: Record<string, unknown>) {
  const a = new Hono<SessionEnv<Data>>()
  a.use(dynamoSession<Data>({ ...conn, secret: SECRET }))
  a.post('/cart', (c) => {
    const s = c.get('session')
    s.set('cart', [...(s.get('cart') ?? []), `sku-${(s.get('cart') ?? []).length}`])
    return c.text('ok')
  })
  a.post('/login/:user', (c) => {
    const s = c.get('session')
    s.set('name', c.req.param('user'))
    s.regenerate({ userId: c.req.param('user') })
    return c.text('welcome')
  })
  a.post('/login-anonymously', (c) => {
    c.get('session').regenerate()
    return c.text('welcome')
  })
  a.get('/', (c) => c.text(c.get('session').get('name') ?? 'guest'))
  a.post('/logout', (c) => {
    c.get('session').destroy()
    return c.text('bye')
  })
  return a
}

/** Runs `work` with a fresh meter and returns what it spent. */
async function metered(proxy: DynamoProxy, what: string, work: () => Promise<unknown>) {
  const meter = new Meter()
  proxy.meter = meter
  await work()
  // A copy: calls made after this (the next measurement's set-up) must not count here.
  proxy.meter = new Meter()
  return { what, calls: { ...meter.calls }, rcu: meter.rcu, wcu: meter.wcu }
}

const callsOf = (calls: Record<string, number>) =>
  Object.entries(calls)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ')

export async function runUsers(o: RunOptions): Promise<UsersResult> {
  if (!o.endpoint) throw new Error('the users benchmark needs DynamoDB Local (endpoint)')
  const proxy = await startProxy(o.endpoint)
  const name = `bench-users-${Date.now().toString(36)}`
  const conn = { table: name, region: 'us-east-1', credentials, endpoint: proxy.endpoint }
  await createSessionTable({ ...conn, endpoint: o.endpoint })
  const demo = app(conn)
  /** A browser: its cookie, kept across requests. */
  const browser = () => {
    let cookie = ''
    return async (method: string, path: string) => {
      const res = await demo.request(path, {
        method,
        headers: { 'user-agent': USER_AGENT, ...(cookie ? { cookie } : {}) },
      })
      const set = res.headers.getSetCookie()[0]
      if (set) cookie = /Max-Age=0/.test(set) ? '' : set.split(';')[0]
      if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}`)
    }
  }
  /** A browser with an anonymous session holding a cart of three items. */
  const shopper = async () => {
    const b = browser()
    for (let i = 0; i < 3; i++) await b('POST', '/cart')
    return b
  }
  const requests: UserCost[] = []
  // Each request a minute after the last, as a user's are: a change then moves the expiry, as
  // it does in use (within one second it would not, and the index would not be written).
  const real = Date.now
  let offset = 0
  Date.now = () => real() + offset
  const measure = async (what: string, work: () => Promise<unknown>) => {
    offset += 60_000
    requests.push(await metered(proxy, what, work))
  }
  try {
    const anonymous = await shopper()
    const bound = await shopper()
    await measure('sign-in: regenerate()', () => anonymous('POST', '/login-anonymously'))
    await measure('sign-in: regenerate({ userId })', () => bound('POST', '/login/ada'))
    await measure('sign-in again, bound: regenerate({ userId })', () => bound('POST', '/login/ada'))
    await measure('page view, anonymous', () => anonymous('GET', '/'))
    await measure('page view, bound', () => bound('GET', '/'))
    await measure('change (cart), anonymous', () => anonymous('POST', '/cart'))
    await measure('change (cart), bound', () => bound('POST', '/cart'))
    await measure('sign-out: destroy(), anonymous', () => anonymous('POST', '/logout'))
    await measure('sign-out: destroy(), bound', () => bound('POST', '/logout'))

    const tools: UserCost[] = []
    const lag = { indexLagMs: 0 }
    const sessions = (n: number) => `${n} session${n === 1 ? '' : 's'}`
    for (const n of o.smoke ? [1, 3] : [1, 10, 50]) {
      const user = `user-${n}`
      for (let i = 0; i < n; i++) await (await shopper())('POST', `/login/${user}`)
      const [first] = await listSessions({ ...conn, userId: user })
      tools.push(
        await metered(proxy, `listSessions(), ${sessions(n)}`, () =>
          listSessions({ ...conn, userId: user }),
        ),
      )
      tools.push(
        await metered(proxy, `revokeSession(), ${sessions(n)}`, () =>
          revokeSession({ ...conn, ...lag, userId: user, handle: first.handle }),
        ),
      )
      // What is left: n - 1 sessions, all revoked.
      tools.push(
        await metered(proxy, `revokeSessions(), ${sessions(n - 1)}`, () =>
          revokeSessions({ ...conn, ...lag, userId: user }),
        ),
      )
    }
    const result: UsersResult = { machine: await machine(), requests, tools }
    report(o, result)
    await writeResult(o, 'users', result)
    return result
  } finally {
    Date.now = real
    await proxy.close()
  }
}

function report(o: RunOptions, r: UsersResult) {
  const rows = (costs: UserCost[]) =>
    costs.map((c) => [c.what, callsOf(c.calls), c.rcu, c.wcu] as (string | number)[])
  const head = ['operation', 'calls', 'read units', 'write units']
  o.log(
    '\n## 7. Per-user sessions: what binding a user, listing and revoking cost (DynamoDB Local)\n',
  )
  o.log(describeMachine(r.machine))
  o.log(
    `\nA session holding a cart of three items; the device is a ${USER_AGENT.length}-character User-Agent; each request a minute after the one before. Units as DynamoDB reports them (ReturnConsumedCapacity: TOTAL, the user index's writes included); revocations with indexLagMs 0 (DynamoDB Local's index follows every write at once), so their time is not measured here.\n`,
  )
  o.log(table(head, rows(r.requests)))
  o.log('')
  o.log(table(head, rows(r.tools)))
}
