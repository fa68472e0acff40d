/**
 * @module The save phase: carries out the plan's writes, in an order that leaves the stored
 * session as it was when one fails, and says which cookie to send.
 */
import type { SessionChanges } from './changes.ts'
import type { RequestTable } from './connection.ts'
import { storedKey } from './cookie.ts'
import { asSessionError } from './errors.ts'
import type { RequestContext } from './request.ts'
import type { CookieChange, Plan } from './rules.ts'
import type { Lease } from './store/lease.ts'
import {
  buryItem,
  clearMovedFlash,
  createItem,
  endSession,
  gone,
  moveSession,
  updateItem,
} from './store/store.ts'
import { newStamp } from './store/tokens.ts'

/**
 * Buries a new item this request wrote and cannot keep. A bury the network drops within the
 * request's budget goes on in the background until it lands: a failed request leaves no orphan.
 */
const bury = (r: RequestContext, table: RequestTable, key: string): Promise<void> =>
  buryItem(table, key, r.now).catch(() => {
    r.background(buryItem(table.raw, key, r.now).catch(() => {}))
  })

/**
 * Writes what the plan says.
 * @returns the cookie to send once everything is stored, or undefined for none
 * @throws DynamoSessionError when a write the handler's changes need failed: nothing of them stored
 */
export async function saveSession(
  r: RequestContext,
  p: Plan,
  changes: SessionChanges,
  lease: Lease | undefined,
): Promise<CookieChange | undefined> {
  if (p.op === 'none') return p.cookie
  if (p.op === 'refuse') throw gone()
  const table = await r.table()
  const stamp = newStamp()
  const { now, keepMs } = r
  const held = lease?.token
  let cookie = p.cookie
  if (p.op === 'create') {
    await createItem(table, await storedKey(p.id), p.item, stamp)
  } else if (p.op === 'end') {
    // A new session first (a goodbye flash), then the end: a failure leaves the old one as it was.
    const { next } = p
    const key = next && (await storedKey(next.id))
    if (key) await createItem(table, key, next.item, stamp)
    try {
      await endSession(table, p.current.key, p.current.stored, stamp, now, held)
    } catch (error) {
      if (key) await bury(r, table, key)
      throw error
    }
  } else if (p.op === 'move') {
    const to = { key: await storedKey(p.id), item: p.to }
    await moveSession(table, p.current, to, changes, stamp, now, held, (key) => bury(r, table, key))
  } else {
    try {
      const state = await updateItem(table, p.current.key, {
        changes,
        stored: p.current.stored,
        expires: p.expires,
        now,
        stamp,
        keepMs,
        lease: held,
      })
      // Applied, then ended by another request: stored, but no cookie for an ended session.
      if (state === 'ended') cookie = undefined
    } catch (error) {
      // A touch or a flash clean-up that fails loses nothing the handler did.
      if (changes.changed) throw error
      const shown = Object.keys(p.current.stored.flash)
      // Reported: the failure, or when the session had ended under the clean-up (a sign-in may
      // have carried the values it showed over), a failure to clear them where they went.
      try {
        if (asSessionError(error).code !== 'SESSION_GONE') throw error
        if (shown.length) await clearMovedFlash(table, p.current.key, shown, now)
      } catch (e) {
        await r.report(asSessionError(e))
      }
      return
    }
  }
  // Every write to a live session released its lease with it.
  if (lease) lease.held = false
  return cookie
}
