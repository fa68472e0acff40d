// The lifecycle rules of docs/guarantees.md: nobody is locked out (a sign-in and a sign-out work
// whatever the cookie names; a change is refused only within the grace of an end), one end wins a
// race, an ended session never comes back, and a stale request never replaces a newer cookie.

import type { Exchange } from '../record.ts'
import { SETTINGS } from '../settings.ts'
import {
  ENDS,
  effectEnd,
  type Facts,
  faulty,
  isChange,
  mayHaveWritten,
  overlap,
  type Violation,
} from './facts.ts'

/** "The grace is 60 seconds from the end" (docs/guarantees.md). */
export const GRACE_SECONDS = 60

const v = (rule: string, ex: Exchange, message: string): Violation => ({ rule, n: ex.n, message })

/** An end a session may have had: when it was sent, when it was done at the latest, its time. */
interface End {
  sent: number
  done: number
  second: number
  certain: boolean
}

/** The ends a session may have had: its enders, and the sign-out of a stale cookie's setup. */
export function endsOf(facts: Facts, id: string): End[] {
  const s = facts.sessions.get(id)
  if (!s) return []
  const ends = s.enders.map((e) => ({
    sent: e.sent,
    done: effectEnd(e),
    second: e.second,
    certain: e.status === 200,
  }))
  if (s.stale) ends.push({ sent: -1, done: -1, second: s.stale.endedAt, certain: true })
  return ends
}

const sameBrowser = (facts: Facts, ex: Exchange) =>
  facts.record.exchanges.filter((o) => o !== ex && o.browser === ex.browser)

/** Whether a 503 of a sign-in or sign-out is explained: its own faults, a race, a lease left by a fault. */
function explained503(facts: Facts, ex: Exchange): boolean {
  const others = sameBrowser(facts, ex)
  if (faulty(ex) || others.some((o) => overlap(o, ex))) return true
  const leftLease = (o: Exchange) =>
    faulty(o) && o.done < ex.sent && o.doneMs + SETTINGS.locking.leaseMs > ex.doneMs
  return facts.record.locking && ex.errors.includes('LOCK_TIMEOUT') && others.some(leftLease)
}

/** A sign-in and a sign-out always work: 409 only when losing a race of ends, 503 only for a cause. */
export function signInAndOutAlwaysWork(facts: Facts): Violation[] {
  const out: Violation[] = []
  for (const ex of facts.record.exchanges) {
    if (!ENDS.has(ex.cmd.op)) continue
    const rule = ex.cmd.op === 'signin' ? 'a browser can always sign in' : 'a sign-out always works'
    if (ex.status === 409) {
      const rivals = sameBrowser(facts, ex).filter(
        (o) =>
          ENDS.has(o.cmd.op) &&
          (ex.cmd.op === 'signin' || o.cmd.op === 'signin') &&
          mayHaveWritten(o) &&
          o.seen?.loaded === ex.seen?.loaded &&
          overlap(o, ex),
      )
      if (!rivals.length)
        out.push(
          v(
            rule,
            ex,
            `${ex.cmd.op} answered 409 with no rival sign-in or sign-out of its session in flight`,
          ),
        )
    }
    if (ex.status === 503 && !explained503(facts, ex)) {
      out.push(
        v(
          rule,
          ex,
          `${ex.cmd.op} answered 503 (${ex.errors.join(' ')}) with no fault, no other request of its browser in flight`,
        ),
      )
    }
  }
  return out
}

/** A change is refused (409) only through a cookie naming a session ended within the grace. */
export function changesAreRefusedOnlyWithinTheGrace(facts: Facts): Violation[] {
  const out: Violation[] = []
  for (const ex of facts.record.exchanges) {
    if (!isChange(ex) || ex.status !== 409) continue
    const graced = ex.candidates.some((id) =>
      endsOf(facts, id).some((e) => e.sent < ex.done && ex.second - e.second < GRACE_SECONDS),
    )
    if (!graced)
      out.push(
        v(
          'nobody is locked out',
          ex,
          `${ex.cmd.op} refused (409) though no cookie it sent names a session ended within the grace`,
        ),
      )
  }
  return out
}

/** Within the grace, a change through an ended session's cookie is refused, not made a new session. */
export function changesThroughAGracedCookieAreRefused(facts: Facts): Violation[] {
  const out: Violation[] = []
  for (const ex of facts.record.exchanges) {
    if (!isChange(ex) || ex.status !== 200 || ex.seen?.loaded !== null) continue
    if (!ex.cookies.some((c) => c !== 'clear')) continue
    const graced = ex.candidates.find((id) => {
      const ends = endsOf(facts, id).filter((e) => e.sent < ex.done)
      const earliest = Math.min(...ends.map((e) => e.second))
      return ends.some((e) => e.certain && e.done < ex.sent) && ex.second - earliest < GRACE_SECONDS
    })
    if (graced)
      out.push(
        v(
          'a stale request never replaces a newer cookie',
          ex,
          `${ex.cmd.op} through the cookie of ${graced.slice(0, 6)}…, ended within the grace, started a new session instead of answering 409`,
        ),
      )
  }
  return out
}
