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
import { type Call, ddb, type freshTable, SECRET } from './helpers.ts'

export type Conn = Awaited<ReturnType<typeof freshTable>>
// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
export type Body = any

/** Which DynamoDB call a gate holds. */
export type Match = (op: string, body: Body) => boolean

/** One held call: `reached` settles when the call arrives at the gate; `release()` lets it go. */
export interface Gate {
  reached: Promise<void>
  release(): void
}

/**
 * A fetch that forwards DynamoDB calls and can hold the next call matching a rule: `before` the
 * call is sent (DynamoDB has not seen it yet) or `after` DynamoDB answered (it is applied, the
 * reply waits). Every call is recorded.
 */
export function gatedFetch(inner: typeof fetch = (i, n) => fetch(i, n)) {
  const calls: Call[] = []
  const rules: { match: Match; when: 'before' | 'after'; arrive(): void; open: Promise<void> }[] =
    []
  const gated: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    const op = (request.headers.get('x-amz-target') ?? '').split('.').pop() ?? ''
    const text = await request.clone().text()
    const body = text ? JSON.parse(text) : undefined
    calls.push({ op, body })
    const i = rules.findIndex((r) => r.match(op, body))
    const rule = i >= 0 ? rules.splice(i, 1)[0] : undefined
    if (rule?.when === 'before') {
      rule.arrive()
      await rule.open
    }
    const response = await inner(request)
    if (rule?.when === 'after') {
      // Read the answer now, so it is DynamoDB's answer to the call as it was applied.
      const answer = await response.text()
      rule.arrive()
      await rule.open
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
      let release: () => void = () => {}
      const reached = new Promise<void>((r) => {
        arrive = r
      })
      const open = new Promise<void>((r) => {
        release = r
      })
      rules.push({ match, when, arrive, open })
      return { reached, release }
    },
  }
}

// What a call is, by what it does rather than by its expression text.
const names = (body: Body): string[] => Object.values(body?.ExpressionAttributeNames ?? {})
/** The load of a session with `locking`: the conditional UpdateItem that takes the lease. */
export const isLeaseTake: Match = (op, body) =>
  op === 'UpdateItem' && body?.ReturnValues === 'ALL_NEW' && names(body).includes('leaseOwner')
/** A whole-item write of a stored session: a PutItem conditioned on the version read. */
const isWholeSave: Match = (op, body) =>
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
  async send(app: Hono<Env>, path: string, method = 'GET'): Promise<Response> {
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

/** A session with a user in it, and the cookie that names it. */
export async function loggedIn(a: ReturnType<typeof makeApp>): Promise<string> {
  const cookie = cookieFrom(await a.post('/set/user/ada'))
  if (!cookie) throw new Error('no Set-Cookie for a new session')
  return cookie
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

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
