// Helpers for the per-user session tests: browsers with their own User-Agent and cookies, the test
// app with a sign-in that binds the user, the user tools wired to the test table, and a user index
// that lags the table on demand (on any backend: DynamoDB Local's index follows every write at once).
import { listSessions, revokeSession, revokeSessions } from '../../src/index.ts'
import { type TestApp, type TestAppOptions, testApp } from './app.ts'
import { CookieJar } from './cookies.ts'
import { type Conn, ddb } from './dynamodb.ts'
import { type Body, type RecordingFetch, recordingFetch } from './fetch.ts'

/**
 * The test app (tests/support/app.ts) with `POST /login/:user`, which binds the session to the
 * user as a sign-in does, and `GET /me`: what the session says of its user.
 */
export function userApp(conn: Conn, options: TestAppOptions = {}): TestApp {
  return testApp(conn, {
    ...options,
    routes: (app) => {
      options.routes?.(app)
      app.post('/login/:user', (c) => {
        const session = c.get('session')
        session.set('name', c.req.param('user'))
        session.regenerate({ userId: c.req.param('user') })
        return c.json({ handle: session.handle })
      })
      app.get('/me', (c) => {
        const s = c.get('session')
        return c.json({ userId: s.userId ?? null, handle: s.handle, isNew: s.isNew, data: s.data })
      })
    },
  })
}

/** What `GET /me` says. */
export interface Me {
  userId: string | null
  handle: string
  isNew: boolean
  data: Record<string, unknown>
}

/** A browser: its own User-Agent and cookie jar. */
export class Browser {
  readonly jar: CookieJar = new CookieJar()
  constructor(
    readonly a: TestApp,
    readonly userAgent: string,
  ) {}

  /** Sends a request with this browser's cookies and User-Agent, and keeps the answer's cookies. */
  async send(path: string, method = 'GET'): Promise<Response> {
    const cookie = this.jar.header()
    const headers: Record<string, string> = { 'user-agent': this.userAgent }
    if (cookie) headers.cookie = cookie
    const res = await this.a.app.request(path, { method, headers })
    this.jar.store(res)
    return res
  }

  /** Signs in as `user`; returns the new session's handle. */
  async login(user: string): Promise<string> {
    const res = await this.send(`/login/${user}`, 'POST')
    if (res.status !== 200) throw new Error(`sign-in answered ${res.status}`)
    return ((await res.json()) as { handle: string }).handle
  }

  async me(): Promise<Me> {
    return (await (await this.send('/me')).json()) as Me
  }

  /** The user this browser is signed in as, or null. */
  async user(): Promise<string | null> {
    return (await this.me()).userId
  }
}

/** The user tools on the test table, through `fetch` when given. */
export function tools(conn: Conn, fetch?: typeof globalThis.fetch) {
  const base = { ...conn, ...(fetch ? { fetch } : {}) }
  return {
    list: (userId: string) => listSessions({ ...base, userId }),
    revokeOne: (userId: string, handle: string, indexLagMs = 0) =>
      revokeSession({ ...base, userId, handle, indexLagMs }),
    revokeAll: (userId: string, except?: string, indexLagMs = 0) =>
      revokeSessions({ ...base, userId, indexLagMs, ...(except ? { except } : {}) }),
  }
}

/** The raw entries of a user in the user index, as DynamoDB answers a Query on it. */
export async function indexEntries(conn: Conn, userId: string): Promise<Body[]> {
  const out = await ddb('Query', {
    TableName: conn.table,
    IndexName: 'user',
    KeyConditionExpression: 'uid = :u',
    ExpressionAttributeValues: { ':u': { S: userId } },
  })
  return out.Items
}

/** The raw item stored under a key. */
export async function itemAt(conn: Conn, key: string): Promise<Body | undefined> {
  const out = await ddb('GetItem', {
    TableName: conn.table,
    Key: { id: { S: key } },
    ConsistentRead: true,
  })
  return out.Item
}

/**
 * A fetch whose user index lags: after `freeze(conn, userId)`, the next `queries` Queries of
 * that user's index entries are answered with the entries as they were when frozen, as DynamoDB
 * answers while a write has not reached the index yet. Every call is recorded, with its time.
 */
export function laggingIndex(inner: typeof fetch = (i, n) => fetch(i, n)) {
  let frozen: { userId: string; items: Body[]; left: number } | undefined
  const queries: { at: number; stale: boolean }[] = []
  const lagging: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    const op = (request.headers.get('x-amz-target') ?? '').split('.').pop()
    if (op !== 'Query') return inner(request)
    const body = JSON.parse(await request.clone().text())
    const user = Object.values(body.ExpressionAttributeValues ?? {}).some(
      (v) => (v as { S?: string }).S === frozen?.userId,
    )
    const stale = !!frozen && frozen.left > 0 && body.IndexName === 'user' && user
    queries.push({ at: Date.now(), stale })
    if (!stale || !frozen) return inner(request)
    frozen.left--
    const handle = body.FilterExpression
      ? (Object.values(body.ExpressionAttributeValues) as { S: string }[]).find(
          (v) => v.S !== frozen?.userId,
        )?.S
      : undefined
    const items = frozen.items.filter((i) => handle === undefined || i.h?.S === handle)
    return new Response(
      JSON.stringify({ Items: items, Count: items.length, ScannedCount: items.length }),
      {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
      },
    )
  }
  return {
    fetch: lagging,
    queries,
    /** From now on, the next `queries` Queries of `userId` see the index as it is now. */
    async freeze(conn: Conn, userId: string, count = 1) {
      const items = (await indexEntries(conn, userId)).sort(
        (a: Body, b: Body) => Number(b.created.N) - Number(a.created.N),
      )
      frozen = { userId, items, left: count }
    },
  }
}

/** A fetch that records and holds chosen calls (`recordingFetch`) in front of a lagging index. */
export function gatedLagging(): { lag: ReturnType<typeof laggingIndex>; gate: RecordingFetch } {
  const lag = laggingIndex()
  const gate = recordingFetch(lag.fetch)
  return { lag, gate }
}

/** Reads of one stored item, by what they do. */
export const isReadOf =
  (key: string) =>
  (op: string, body: Body): boolean =>
    op === 'GetItem' && body?.Key?.id?.S === key
/** The tombstone a revocation or sign-out writes over one item. */
export const isEndOf =
  (key: string) =>
  (op: string, body: Body): boolean =>
    op === 'PutItem' && body?.Item?.id?.S === key && !!body?.Item?.end

/**
 * A fetch that reports the user index ACTIVE once DynamoDB has shown it `CREATING` `polls`
 * times: DynamoDB Local builds an index added to an existing table in a job queue shared with
 * its TTL deletions, which in a busy test run can take minutes (and refuses writes that touch
 * the index meanwhile). What DynamoDB itself does is its own business; what the library does
 * while it waits is the tests'.
 */
export function indexBuiltAfter(polls = 1, inner: typeof fetch = (i, n) => fetch(i, n)) {
  let creating = 0
  const built: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    const res = await inner(request)
    if (!request.headers.get('x-amz-target')?.endsWith('.DescribeTable') || !res.ok) return res
    const body = await res.json()
    for (const index of body.Table?.GlobalSecondaryIndexes ?? []) {
      if (index.IndexName !== 'user') continue
      // Building for the first `polls` answers that show it (also where DynamoDB built it at
      // once), then built.
      if (creating < polls) {
        creating++
        index.IndexStatus = 'CREATING'
      } else index.IndexStatus = 'ACTIVE'
    }
    return new Response(JSON.stringify(body), { status: res.status, headers: res.headers })
  }
  return {
    fetch: built,
    /** How many times DescribeTable showed the index building. */
    get creating() {
      return creating
    },
  }
}

/**
 * Deletes a table once its test is done with it, for tables given an index by UpdateTable:
 * DynamoDB Local refuses more than 5 tables with indexes being built at once, and builds them
 * slowly in a busy run (`indexBuiltAfter`), so a test must not leave one behind. Called from a
 * `finally`: Bun's `node:test` never runs `t.after()`.
 */
export async function dropTable(table: string): Promise<void> {
  await ddb('DeleteTable', { TableName: table }).catch(() => {})
}
