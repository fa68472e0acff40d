/**
 * @module A user's sessions: list them, and revoke one or all of them ("sign out everywhere"),
 * through the user index (`store/user-index.ts`). A revoked session ends as a sign-out ends it (a
 * tombstone, `store.ts`), so its browser can sign in again at once. Separate exports: a Worker
 * that only uses the middleware bundles nothing of this.
 */
import { sleep } from './client.ts'
import type { SessionTable } from './connection.ts'
import type { DynamoSessionError } from './errors.ts'
import type { JsonValue } from './marshall.ts'
import type { ToolOption } from './settings.ts'
import { parseItem } from './store/item.ts'
import { contended, endSession, getItem } from './store/store.ts'
import { newStamp } from './store/tokens.ts'
import { userEntries } from './store/user-index.ts'
import { connect, type ToolConnection } from './table.ts'

/**
 * Options of `listSessions()`: the connection of `createSessionTable()` (`table` may be a
 * `globalTable()`: then `region`, default its first, is where the index is read), and the user.
 */
export interface ListSessionsOptions extends ToolConnection {
  /** The user the sessions were bound to by `regenerate({ userId })`. */
  userId: string
}

/** What the revoking functions take besides: how far the user index may lag the table. */
export interface RevokeOptions extends ListSessionsOptions {
  /**
   * How long, in milliseconds, DynamoDB may take to show a write in the user index (usually well
   * under a second). A revocation looks at the index again once this long after it began, so a
   * session bound a moment before the call is revoked too.
   * @default 1000
   */
  indexLagMs?: number
}

/** Options of `revokeSession()`. */
export interface RevokeSessionOptions extends RevokeOptions {
  /** The session's handle, as `listSessions()` or `session.handle` give it. */
  handle: string
}

/** Options of `revokeSessions()`. */
export interface RevokeSessionsOptions extends RevokeOptions {
  /** The handle of a session to keep signed in (the current one, after a password change). */
  except?: string
}

/** A live session of a user, as `listSessions()` shows it. */
export interface SessionInfo {
  /** The session's opaque name, as `session.handle` gives it: safe to show, useless as a cookie. */
  handle: string
  /** When the session started, in epoch milliseconds (kept through sign-ins). */
  created: number
  /** When it expires unless used, in epoch milliseconds. */
  expires: number
  /** What `describe(c)` said of the browser when the user signed in (default: its User-Agent). */
  device: JsonValue | undefined
}

/** The default of `indexLagMs`. */
const INDEX_LAG_MS = 1000

/** Sessions revoked at once. */
const CONCURRENCY = 8

/** Sign-ins followed, one after the other, while revoking one session; then CONTENDED. */
const MAX_HOPS = 8

/** The user tools' connection, their options checked first. */
function open(
  tool: string,
  options: ListSessionsOptions,
  extra: readonly ToolOption[],
): { table: SessionTable; lagMs: number } {
  const { send, table } = connect(tool, options, ['userId', ...extra])
  const lagMs = (options as RevokeOptions).indexLagMs ?? INDEX_LAG_MS
  return { table: { send, name: table }, lagMs }
}

/**
 * Lists a user's live sessions, newest first, from the user index: sessions bound by
 * `regenerate({ userId })`; anonymous sessions are never listed. The index lags the table
 * (usually under a second), so a session bound or ended a moment ago may not show yet.
 *
 * @param options `userId`, and the connection options of `createSessionTable()`
 * @returns each session's `handle`, `created`, `expires` (epoch ms) and `device`
 * @example
 * ```ts
 * app.get('/devices', async (c) => {
 *   const session = c.get('session')
 *   if (!session.userId) return c.redirect('/login')
 *   const sessions = await listSessions({ table: 'sessions', userId: session.userId })
 *   return c.json(sessions.map((s) => ({ ...s, current: s.handle === session.handle })))
 * })
 * ```
 */
export async function listSessions(options: ListSessionsOptions): Promise<SessionInfo[]> {
  const { table } = open('listSessions', options, [])
  const now = Date.now() / 1000
  const out: SessionInfo[] = []
  for await (const page of userEntries(table, options.userId)) {
    for (const e of page) {
      // Tombstones of sign-ins stay in the index for an hour, without a handle.
      if (e.handle === undefined || !(e.expires > now)) continue
      const { handle, device } = e
      out.push({ handle, created: e.created * 1000, expires: e.expires * 1000, device })
    }
  }
  return out
}

/**
 * Ends the session stored at `key` if it is live and the user's (and not `except`), as a
 * sign-out ends it: read consistently, then a tombstone under the version read. A session that a
 * sign-in moved (before or during this) is followed to its new item, which is revoked instead.
 * @returns the key of the item ended (by this call, or by a sign-out that beat it to it), or
 *   undefined when there was nothing of the user's to end
 */
async function revoke(
  table: SessionTable,
  key: string,
  userId: string,
  except: string | undefined,
): Promise<string | undefined> {
  let at = key
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const now = Math.floor(Date.now() / 1000)
    const found = parseItem(await getItem(table, at, true), now)
    if (found.state === 'ended' && found.to) {
      at = found.to
      continue
    }
    if (found.state !== 'live') return undefined
    const { session } = found
    if (session.uid !== userId || session.handle === except) return undefined
    try {
      await endSession(table, at, session, newStamp(), now)
      return at
    } catch (error) {
      // Moved by a sign-in since it was read (or just expired): read it again.
      if ((error as DynamoSessionError)?.code !== 'SESSION_GONE') throw error
    }
  }
  throw contended()
}

/** Runs `work` on every element, `CONCURRENCY` at a time; the first failure is thrown. */
async function each<T>(list: T[], work: (x: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < list.length) {
      await work(list[next++]).catch((error) => {
        failed = true
        throw error
      })
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, list.length) }, worker))
}

/**
 * Waits, after a first pass, until the index shows every write made before `started`, for the
 * second: a session bound a moment before the call was not in the index yet at the first.
 */
const settle = (started: number, lagMs: number): Promise<void> =>
  sleep(Math.max(0, started + lagMs - Date.now()))

/**
 * Revokes one session of a user: ends it if it is live and bound to `userId`, as `destroy()`
 * would; another user's handle changes nothing. Its browser is signed out at its next request
 * and can sign in again at once. A session that signed in again meanwhile is followed to its new
 * id. When the handle is not in the user index, it is looked up again once `indexLagMs` has
 * passed (a session bound a moment ago), so a `false` answer takes that long.
 *
 * @param options `userId`, `handle`, `indexLagMs` (1000), and the connection options of
 *   `createSessionTable()`
 * @returns true when this call ended the session
 * @example
 * ```ts
 * app.post('/devices/:handle/sign-out', async (c) => {
 *   const userId = c.get('session').userId
 *   if (!userId) return c.text('sign in first', 401)
 *   const done = await revokeSession({ table: 'sessions', userId, handle: c.req.param('handle') })
 *   return c.text(done ? 'signed out' : 'no such session', done ? 200 : 404)
 * })
 * ```
 */
export async function revokeSession(options: RevokeSessionOptions): Promise<boolean> {
  const started = Date.now()
  const { table, lagMs } = open('revokeSession', options, ['handle', 'indexLagMs'])
  for (let pass = 0; pass < 2; pass++) {
    if (pass) await settle(started, lagMs)
    for await (const page of userEntries(table, options.userId, options.handle)) {
      for (const e of page) return !!(await revoke(table, e.key, options.userId, undefined))
    }
  }
  return false
}

/**
 * Revokes every session of a user but `except` ("sign out everywhere", after a password change
 * or a lost device). When it resolves, no session of the user created before the call began can
 * be read as signed in or make a change (docs/guarantees.md): it goes through the user index
 * twice, the second time once the index shows every write made before the call (`indexLagMs`
 * after it began), and follows sessions that sign in again meanwhile to their new ids. So it
 * takes at least `indexLagMs`. A page view stays one GetItem for every user: nothing is checked
 * per request.
 *
 * @param options `userId`, `except` (a handle to keep), `indexLagMs` (1000), and the connection
 *   options of `createSessionTable()`
 * @returns how many sessions this call ended
 * @example
 * ```ts
 * app.post('/password', async (c) => {
 *   const session = c.get('session')
 *   // ... change the password of session.userId, then:
 *   const { revoked } = await revokeSessions({
 *     table: 'sessions',
 *     userId: session.userId as string,
 *     except: session.handle,
 *   })
 *   return c.text(`signed out ${revoked} other sessions`)
 * })
 * ```
 */
export async function revokeSessions(options: RevokeSessionsOptions): Promise<{ revoked: number }> {
  const started = Date.now()
  const { table, lagMs } = open('revokeSessions', options, ['except', 'indexLagMs'])
  const { userId, except } = options
  // The items this call ended: final, so the second pass skips them while the index shows them.
  const revoked = new Set<string>()
  for (let pass = 0; pass < 2; pass++) {
    if (pass) await settle(started, lagMs)
    for await (const page of userEntries(table, userId)) {
      const todo = page.filter(
        (e) => (except === undefined || e.handle !== except) && !revoked.has(e.key),
      )
      await each(todo, async (e) => {
        const key = await revoke(table, e.key, userId, except)
        if (key) revoked.add(key)
      })
    }
  }
  return { revoked: revoked.size }
}
