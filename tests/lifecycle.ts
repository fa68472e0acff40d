// Helpers for the lifecycle tests: a `fetch` that holds one chosen DynamoDB call until the test
// lets it go (deterministic interleavings), a browser modelled as a cookie jar, a virtual clock,
// one app with the routes the tests need, and raw reads of the stored item.
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { storedKey } from '../src/cookie.ts'
import {
  type DynamoSessionError,
  type DynamoSessionOptions,
  dynamoSession,
  type SessionEnv,
} from '../src/index.ts'
import { type Call, ddb, type freshTable, SECRET, spelled } from './helpers.ts'

export type Conn = Awaited<ReturnType<typeof freshTable>>
// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
export type Body = any

/** Which DynamoDB call a gate holds. */
export type Match = (op: string, body: Body) => boolean

/** One held call: `reached` settles when the call arrives at the gate. */
export interface Gate {
  reached: Promise<void>
  /** Lets it go: sent on (`before`), or DynamoDB's answer handed back (`after`). */
  release(): void
  /**
   * Fails it with a network error instead. `after`: DynamoDB applied it and the reply is lost.
   * `before`: DynamoDB has not seen it yet; it stays on the wire until `deliver()`.
   */
  lose(): void
  /** Delivers a call lost `before` to DynamoDB now, a late duplicate; DynamoDB's answer. */
  deliver(): Promise<Response>
}

/** What a fault does to every matching call: not forwarded (a 500), or applied with its reply lost. */
export type Fault = 'unavailable' | 'reply-lost'

const lost = (what: string) => new TypeError(`fetch failed: ${what} (a test fault)`)

/**
 * A fetch that forwards DynamoDB calls and can hold the next call matching a rule: `before` the
 * call is sent (DynamoDB has not seen it yet) or `after` DynamoDB answered (it is applied, the
 * reply waits); a held call is released, or lost. `failEvery()` fails every matching call from
 * then on. Every call is recorded.
 */
export function gatedFetch(inner: typeof fetch = (i, n) => fetch(i, n)) {
  const calls: Call[] = []
  type Rule = {
    match: Match
    when: 'before' | 'after'
    arrive(): void
    open: Promise<'release' | 'lose'>
    late?: () => Promise<Response>
  }
  const rules: Rule[] = []
  const faults: { match: Match; fault: Fault }[] = []
  const gated: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    const op = (request.headers.get('x-amz-target') ?? '').split('.').pop() ?? ''
    const text = await request.clone().text()
    const body = text ? JSON.parse(text) : undefined
    calls.push({ op, body })
    const fault = faults.find((f) => f.match(op, body))?.fault
    if (fault === 'unavailable') {
      return new Response('{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError"}', {
        status: 500,
      })
    }
    const i = rules.findIndex((r) => r.match(op, body))
    const rule = i >= 0 ? rules.splice(i, 1)[0] : undefined
    if (rule?.when === 'before') {
      rule.arrive()
      if ((await rule.open) === 'lose') {
        // A copy without the client's signal: the client has given up on it.
        const { url, headers } = request
        rule.late = () => inner(new Request(url, { method: 'POST', headers, body: text }))
        throw lost('connection lost before DynamoDB read the request')
      }
    }
    const response = await inner(request)
    if (fault === 'reply-lost') throw lost('reply lost')
    if (rule?.when === 'after') {
      // Read the answer now, so it is DynamoDB's answer to the call as it was applied.
      const answer = await response.text()
      rule.arrive()
      if ((await rule.open) === 'lose') throw lost('reply lost')
      return new Response(answer, { status: response.status, headers: response.headers })
    }
    return response
  }
  return {
    fetch: gated,
    calls,
    ops: () => calls.map((c) => c.op),
    /** Holds the next call that matches. */
    hold(match: Match, when: 'before' | 'after' = 'before'): Gate {
      let arrive: () => void = () => {}
      let open: (how: 'release' | 'lose') => void = () => {}
      const reached = new Promise<void>((r) => {
        arrive = r
      })
      const rule: Rule = {
        match,
        when,
        arrive,
        open: new Promise((r) => {
          open = r
        }),
      }
      rules.push(rule)
      return {
        reached,
        release: () => open('release'),
        lose: () => open('lose'),
        deliver: () => {
          if (!rule.late) throw new Error('deliver() needs a call held before DynamoDB and lost')
          return rule.late()
        },
      }
    },
    /** Fails every call that matches from now on. */
    failEvery(match: Match, fault: Fault): void {
      faults.push({ match, fault })
    },
  }
}

// What a call is, by what it does rather than by its expression text.
const names = (body: Body): string[] => Object.values(body?.ExpressionAttributeNames ?? {})
/** The load of a session with `locking`: the conditional UpdateItem that takes the lease. */
export const isLeaseTake: Match = (op, body) =>
  op === 'UpdateItem' && body?.ReturnValues === 'ALL_NEW' && names(body).includes('leaseOwner')
/** A whole-item write of a stored session: a PutItem conditioned on the version read. */
export const isWholeSave: Match = (op, body) =>
  op === 'PutItem' && !!body?.Item?.data && names(body).includes('v')
/** A save that writes the session's data (per key, or the whole item under its version). */
export const isSave: Match = (op, body) =>
  (op === 'UpdateItem' && body?.ReturnValues !== 'ALL_NEW' && names(body).includes('data')) ||
  isWholeSave(op, body)
/** The PutItem that writes a new session item (a first write, or the new item of a regenerate). */
export const isNewItem: Match = (op, body) =>
  op === 'PutItem' && !!body?.Item?.data && !isWholeSave(op, body)
/** The PutItem of a tombstone: the end of a session (destroy, or the old item of a regenerate). */
export const isEnd: Match = (op, body) => op === 'PutItem' && !!body?.Item?.end
/** A save that stores a flash value: per key, or the whole item with its flash map. */
export const isFlashSave: Match = (op, body) =>
  (op === 'UpdateItem' && / flash\.\S+ = /.test(spelled(body, 'UpdateExpression'))) ||
  (isWholeSave(op, body) && Object.keys(body.Item.flash?.M ?? {}).length > 0)

/**
 * A browser's cookie store for one site: Set-Cookie headers are applied in order, `Max-Age`
 * sets the expiry (by `Date.now()`, so a virtual clock applies), `Max-Age=0` deletes.
 */
export class CookieJar {
  readonly #cookies = new Map<string, { value: string; until: number }>()

  /** Applies a response's Set-Cookie headers, in order. */
  store(res: Response): void {
    for (const header of res.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';').map((p) => p.trim())
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      const maxAge = attributes.find((a) => /^max-age=/i.test(a))
      const seconds = maxAge ? Number(maxAge.split('=')[1]) : Number.POSITIVE_INFINITY
      if (seconds <= 0) this.#cookies.delete(name)
      else this.#cookies.set(name, { value, until: Date.now() + seconds * 1000 })
    }
  }

  /** The Cookie header the browser sends now, or undefined; expired cookies are dropped. */
  header(): string | undefined {
    for (const [name, c] of this.#cookies) if (c.until <= Date.now()) this.#cookies.delete(name)
    const pairs = [...this.#cookies].map(([name, c]) => `${name}=${c.value}`)
    return pairs.length ? pairs.join('; ') : undefined
  }

  /** Sends a request to `app` with the jar's cookies and stores the answer's cookies. */
  async send(app: Pick<Hono, 'request'>, path: string, method = 'GET'): Promise<Response> {
    const cookie = this.header()
    const res = await app.request(path, { method, headers: cookie ? { cookie } : {} })
    this.store(res)
    return res
  }
}

/**
 * Moves `Date.now()` by hand for the library and the cookie jar; real time still runs beneath,
 * so retry budgets keep working. `restore()` puts the real clock back.
 */
export function virtualClock() {
  const real = Date.now
  let offset = 0
  Date.now = () => real() + offset
  return {
    advance(seconds: number) {
      offset += seconds * 1000
    },
    restore() {
      Date.now = real
    },
  }
}

export type Data = Record<string, unknown>
export type Env = SessionEnv<Data>

/** The routes every lifecycle test uses, on one middleware instance (one "server" or "tab"). */
export function makeApp(
  conn: Conn,
  options: Partial<DynamoSessionOptions<Data>> = {},
  inner?: typeof fetch,
) {
  const gate = gatedFetch(inner)
  const errors: DynamoSessionError[] = []
  const app = new Hono<Env>()
  let pause: (() => Promise<void>) | undefined
  app.use(
    dynamoSession<Data>({
      ...conn,
      secret: SECRET,
      fetch: gate.fetch,
      // Held calls must not be cut off by the per-attempt timeout.
      retry: { timeoutMs: 30000, budgetMs: 60000 },
      onError: (e) => {
        errors.push(e)
      },
      ...options,
    }),
  )
  app.post('/login', (c) => {
    c.get('session').set('user', 'ada')
    c.get('session').regenerate()
    return c.text('welcome')
  })
  app.post('/logout', (c) => {
    c.get('session').destroy()
    return c.text('bye')
  })
  app.post('/set/:key/:value', async (c) => {
    if (pause) await pause()
    c.get('session').set(c.req.param('key'), c.req.param('value'))
    return c.text('ok')
  })
  app.post('/increment/:key', (c) => {
    c.get('session').increment(c.req.param('key'))
    return c.text('ok')
  })
  app.post('/flash/:key/:value', (c) => {
    c.get('session').flash(c.req.param('key'), c.req.param('value'))
    return c.text('ok')
  })
  app.get('/take/:key', (c) => {
    const key = c.req.param('key')
    return c.json({ [key]: c.get('session').takeFlash(key) ?? null })
  })
  app.get('/read', async (c) => {
    if (pause) await pause()
    const s = c.get('session')
    return c.json({ isNew: s.isNew, data: s.data })
  })
  // As documented: a DynamoSessionError carries its own generic response.
  app.onError((e, c) =>
    e instanceof HTTPException ? e.getResponse() : c.text('the handler failed', 500),
  )
  app.post('/throw', () => {
    throw new Error('the handler failed')
  })
  const post = (path: string, cookie?: string) =>
    app.request(path, { method: 'POST', headers: cookie ? { cookie } : {} })
  const get = (path: string, cookie?: string) =>
    app.request(path, { headers: cookie ? { cookie } : {} })
  /** The session data a cookie loads, or null when it loads no stored session. */
  const whoami = async (cookie: string | undefined): Promise<Data | null> => {
    const body = (await (await get('/read', cookie)).json()) as { isNew: boolean; data: Data }
    return body.isNew ? null : body.data
  }
  return {
    app,
    gate,
    errors,
    post,
    get,
    whoami,
    /** Makes handlers of /set and /read wait for this first (null to stop). */
    pauseWith(fn: (() => Promise<void>) | undefined) {
      pause = fn
    },
  }
}

/** The codes of the errors an app's `onError` was told of, in order. */
export const codes = (a: { errors: { code: string }[] }): string[] => a.errors.map((e) => e.code)

/** A session with a user in it, and the cookie that names it. */
export async function loggedIn(a: ReturnType<typeof makeApp>): Promise<string> {
  const cookie = cookieFrom(await a.post('/set/user/ada'))
  if (!cookie) throw new Error('the first write set no cookie')
  return cookie
}

/**
 * Sends a POST whose first call matching `match` is lost on the wire before DynamoDB sees it:
 * the client retries, and the lost attempt stays in flight. Returns the answer, and the lost
 * attempt to `deliver()` later, a late duplicate.
 */
export async function postLosingFirstAttempt(
  a: ReturnType<typeof makeApp>,
  match: Match,
  path: string,
  cookie: string,
): Promise<{ res: Response; late: Gate }> {
  const late = a.gate.hold(match)
  const sent = a.post(path, cookie)
  await late.reached
  late.lose()
  return { res: await sent, late }
}

/** The `sid=...` pair of a response's first Set-Cookie, or undefined. */
export const cookieFrom = (res: Response): string | undefined =>
  res.headers.getSetCookie()[0]?.split(';')[0]

/** The stored key of the session a `sid=...` cookie names. */
export async function keyOf(cookie: string): Promise<string> {
  const id = decodeURIComponent(cookie.split('=')[1]).split('.')[0]
  return storedKey(id)
}

/** The raw item of the session a cookie names, lease and tombstone attributes included. */
export async function rawItem(conn: Conn, cookie: string): Promise<Body | undefined> {
  const out = await ddb('GetItem', {
    TableName: conn.table,
    Key: { id: { S: await keyOf(cookie) } },
    ConsistentRead: true,
  })
  return out.Item
}

/** Sets attributes of the stored item directly, e.g. to age or break it. */
export async function patchItem(conn: Conn, cookie: string, expression: string, values: Body = {}) {
  await ddb('UpdateItem', {
    TableName: conn.table,
    Key: { id: { S: await keyOf(cookie) } },
    UpdateExpression: expression,
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  })
}

/** Items of the table that hold a live session (not tombstones). */
export const live = (items: Body[]) => items.filter((i) => i.data && !i.end)

/**
 * An execution context as Workers give one: work handed to `waitUntil` is kept, and `settled()`
 * waits for all of it. Pass `ctx` as the fourth argument of `app.request()`.
 */
export function executionContext() {
  const work: Promise<unknown>[] = []
  const ctx = {
    waitUntil: (p: Promise<unknown>) => void work.push(p),
    passThroughOnException: () => {},
    props: {},
  }
  return { ctx, settled: () => Promise.allSettled(work) }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
