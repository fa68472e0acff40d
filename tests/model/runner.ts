// Runs one history against the real middleware: the browsers' tabs send their requests, the
// scheduler picks which pending step goes next (a tab sending, a DynamoDB call being delivered,
// a reply coming back, a late duplicate landing), and the virtual clock moves only when nothing
// else can (a timeout, a backoff, a pause) or by a millisecond per request sent. Then each
// browser reads and signs in once more, and the items the run touched are read back.
import type fc from 'fast-check'
import type { Hono } from 'hono'
import type { Env } from '../support/app.ts'
import { sleep } from '../support/clock.ts'
import { CookieJar, keyOf } from '../support/cookies.ts'
import type { Conn } from '../support/dynamodb.ts'
import { modelApp, routeOf } from './app.ts'
import type { Backend } from './backends.ts'
import { type Command, describeCommand, type History, INSTANCES } from './history.ts'
import type { Mutation } from './mutations.ts'
import { type Network, network, requests } from './network.ts'
import {
  type Exchange,
  type FinalItem,
  type RunRecord,
  type SetCookie,
  type Stale,
  writtenValue,
} from './record.ts'
import { enterWorld, type World } from './world.ts'

/** Where and how a history runs. */
export interface RunOptions {
  backend: Backend
  conn: Conn
  locking: boolean
  mutation: Mutation
}

interface Run {
  o: RunOptions
  s: fc.Scheduler
  world: World
  net: Network
  apps: Hono<Env>[]
  jars: CookieJar[]
  stale: Stale[]
  exchanges: Exchange[]
  trace: string[]
  tick: number
}

const idOf = (value: string): string => value.slice(0, 43)

/** The session cookie values of a Cookie header, in order. */
const sids = (header: string | undefined): string[] =>
  (header ?? '')
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p.startsWith('sid='))
    .map((p) => p.slice(4))

function parseSetCookies(res: Response): SetCookie[] {
  return res.headers
    .getSetCookie()
    .filter((h) => h.startsWith('sid='))
    .map((h) => {
      const value = h.split(';')[0].slice(4)
      const maxAge = Number(/Max-Age=(-?\d+)/i.exec(h)?.[1] ?? Number.NaN)
      return value && maxAge > 0 ? { id: idOf(value), maxAge } : 'clear'
    })
}

const describeCookies = (cookies: SetCookie[]) =>
  cookies.map((c) => (c === 'clear' ? 'clear' : `${c.id.slice(0, 6)}…`)).join(', ') || 'none'

/** The candidates of a Cookie header as ids; a bad signature (a forged stale cookie) marked. */
const candidatesOf = (values: string[], forged: string | undefined) =>
  values.map((v) => (v === forged ? `forged:${idOf(v)}` : idOf(v)))

/** Sends one request of browser `b` and records it. */
async function send(run: Run, b: number, tab: number, cmd: Command, final: boolean) {
  const n = run.exchanges.length
  const jar = run.jars[b]
  const own = sids(jar.header())[0]
  const stale = run.stale.find((s) => s.browser === b)
  const values = [stale?.cookie, own].filter((v): v is string => !!v)
  run.world.clock.advance(1)
  const ex: Exchange = {
    n,
    browser: b,
    tab,
    cmd,
    value: writtenValue(b, n),
    final,
    sent: run.tick++,
    done: 0,
    second: Math.floor(run.world.clock.now() / 1000),
    doneMs: 0,
    candidates: candidatesOf(values, stale?.kind === 'forged' ? stale.cookie : undefined),
    jarAtSend: own && idOf(own),
    jarAtDone: undefined,
    status: 0,
    cookies: [],
    seen: undefined,
    errors: [],
    calls: [],
    keys: [],
  }
  run.exchanges.push(ex)
  const shown = ex.candidates.map((c) => `${c.slice(0, c.startsWith('forged:') ? 13 : 6)}…`)
  run.trace.push(
    `#${n} b${b}/t${tab} sends ${describeCommand(cmd)}; sid: ${shown.join(' ') || 'none'}`,
  )
  const { path, method } = routeOf(cmd.op, cmd.key)
  const cookie = values.map((v) => `sid=${v}`).join('; ')
  const res = await requests.run(ex, () =>
    run.apps[cmd.instance % INSTANCES].request(path, {
      method,
      headers: cookie ? { cookie } : {},
    }),
  )
  await res.arrayBuffer()
  ex.status = res.status
  ex.cookies = parseSetCookies(res)
  const before = sids(jar.header())[0]
  ex.jarAtDone = before && idOf(before)
  jar.store(res)
  ex.done = run.tick++
  ex.doneMs = run.world.clock.now()
  const seen = ex.seen ? `loaded ${ex.seen.loaded?.slice(0, 6) ?? 'nothing'}` : 'no handler'
  const errors = ex.errors.length ? `; onError: ${ex.errors.join(' ')}` : ''
  run.trace.push(
    `#${n} b${b}/t${tab} ← ${res.status}, ${seen}; set-cookie: ${describeCookies(ex.cookies)}${errors}`,
  )
}

/** Runs one tab's commands, each once the scheduler lets the tab send it. */
async function runTab(run: Run, b: number, tab: number, commands: Command[]) {
  for (const cmd of commands) {
    if (cmd.op === 'pause') {
      await sleep(cmd.seconds * 1000)
      continue
    }
    await run.s.schedule(Promise.resolve(), `b${b}/t${tab} sends ${describeCommand(cmd)}`)
    await send(run, b, tab, cmd, false)
  }
}

/**
 * Lets the scheduler and the clock move everything until nothing is left to move. Each step
 * resumes one waiting piece of work (a timer due, or what the scheduler picks), and the next step
 * waits until everything it set going has settled: so the order is the scheduler's alone.
 */
async function drive(run: Run, work: Promise<unknown>) {
  let outcome: { error?: unknown } | undefined
  work.then(
    () => {
      outcome = {}
    },
    (error) => {
      outcome = { error: error ?? new Error('a tab failed') }
    },
  )
  for (;;) {
    await run.world.settled()
    if (run.world.clock.fireDue()) continue
    if (run.s.count() > 0) await run.s.waitNext(1)
    else if (!run.world.clock.fireNext()) break
  }
  if (!outcome) throw new Error('stuck: nothing scheduled, no timer, a request unanswered')
  if (outcome.error) throw outcome.error
}

/** A browser's stale cookie: a session signed out just now, or a well-formed id badly signed. */
async function staleCookie(run: Run, b: number, kind: 'ended' | 'forged') {
  const app = run.apps[0]
  const created = await app.request('/set/a', { method: 'POST' })
  const cookie = created.headers.getSetCookie()[0].split(';')[0].slice(4)
  await app.request('/signout', { method: 'POST', headers: { cookie: `sid=${cookie}` } })
  const id = idOf(cookie)
  run.stale.push({
    browser: b,
    kind,
    id,
    endedAt: Math.floor(run.world.clock.now() / 1000),
    cookie: kind === 'ended' ? cookie : `${id}.${'A'.repeat(43)}`,
  })
}

/** The items the run's calls named, read back, by the id a cookie gave them. */
async function finalItems(run: Run, ids: string[]): Promise<FinalItem[]> {
  const byKey = new Map<string, string>()
  for (const id of ids) byKey.set(await keyOf(`sid=${id}`), id)
  const now = run.world.clock.now()
  const items: FinalItem[] = []
  for (const key of [...run.net.keys].sort()) {
    const item = await run.net.read(run.o.conn.table, key)
    if (!item) continue
    const unexpired = Number(item.expires?.N) > now / 1000
    items.push({
      key,
      id: byKey.get(key),
      live: unexpired && !!item.data && !item.end,
      ended: unexpired && !!item.end,
      data: Object.fromEntries(
        Object.entries(item.data?.M ?? {}).map(([k, v]) => {
          const { S, N } = v as { S?: string; N?: string }
          return [k, N === undefined ? S : Number(N)]
        }),
      ),
      leased: Number(item.lease?.N) > now,
    })
  }
  return items
}

/** The last requests of each browser, once the history is over: no faults, nothing else of it in flight. */
const FINAL = ['read', 'signin', 'read'] as const

/** Runs a history; the world (clock, randomness) is the run's own until it returns. */
export async function runHistory(h: History, s: fc.Scheduler, o: RunOptions): Promise<RunRecord> {
  const world = enterWorld(h.seed)
  try {
    const trace: string[] = []
    const net = network({ scheduler: s, backend: o.backend, world, mutation: o.mutation, trace })
    const run: Run = {
      o,
      s,
      world,
      net,
      apps: Array.from({ length: INSTANCES }, () => modelApp(o.conn, net.fetch, o.locking)),
      jars: h.browsers.map(() => new CookieJar()),
      stale: [],
      exchanges: [],
      trace,
      tick: 0,
    }
    await net.direct(async () => {
      for (const [b, plan] of h.browsers.entries()) {
        if (plan.stale !== 'none') await staleCookie(run, b, plan.stale)
      }
    })
    const tabs = h.browsers.flatMap((plan, b) =>
      plan.tabs.map((commands, t) => runTab(run, b, t, commands)),
    )
    await drive(run, Promise.all(tabs))
    trace.push('-- the history is over: each browser reads, signs in and reads again')
    const last = async (b: number) => {
      for (const op of FINAL) {
        await run.s.schedule(Promise.resolve(), `b${b} sends its last ${op}`)
        await send(run, b, 0, { op, key: 'a', instance: 0, seconds: 0, fault: null }, true)
      }
    }
    await drive(run, Promise.all(h.browsers.map((_, b) => last(b))))
    const ids = new Set(run.stale.map((x) => x.id))
    for (const ex of run.exchanges) {
      for (const c of ex.cookies) if (c !== 'clear') ids.add(c.id)
    }
    const items = await finalItems(run, [...ids])
    return {
      locking: o.locking,
      exchanges: run.exchanges,
      stale: run.stale,
      items,
      trace,
      endedAtMs: world.clock.now(),
    }
  } finally {
    world.restore()
  }
}
