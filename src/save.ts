/**
 * @module The save phase: carries out the plan's writes and says which cookie to send.
 */
import type { SessionChanges } from './changes.ts'
import { newId, storedKey } from './cookie.ts'
import { asSessionError } from './errors.ts'
import type { RequestContext } from './request.ts'
import type { CookieChange, Plan } from './rules.ts'
import type { Lease } from './store/lease.ts'
import { endItem, gone, moveSession, putItem, tokenKeepSeconds, updateItem } from './store/store.ts'

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
  if (p.op === 'none') return
  if (p.op === 'refuse') throw gone()
  const table = await r.table()
  const token = newId().slice(0, 12)
  if (p.op === 'create') {
    await putItem(table, await storedKey(p.id), p.item)
  } else if (p.op === 'end') {
    await endItem(table, p.current.key, token, r.now, p.current.stored, false)
    lease?.released()
    // Written to after the destroy (a goodbye flash): a new session takes the cookie's place.
    if (p.next) await putItem(table, await storedKey(p.next.id), p.next.item)
  } else if (p.op === 'move') {
    const to = { key: await storedKey(p.id), changes, expires: p.expires }
    await moveSession(table, p.current, to, token, r.now)
    lease?.released()
  } else {
    try {
      await updateItem(table, p.current.key, {
        changes,
        stored: p.current.stored,
        expires: p.expires,
        now: r.now,
        token,
        staleBefore: r.now - tokenKeepSeconds(r.s.retry.budgetMs),
        lease: lease?.token,
      })
      lease?.released()
    } catch (error) {
      // A touch or a flash clean-up that fails loses nothing the handler did.
      if (changes.changed) throw error
      const e = asSessionError(error)
      if (e.code !== 'SESSION_GONE') await r.report(e)
      return
    }
  }
  return p.cookie
}
