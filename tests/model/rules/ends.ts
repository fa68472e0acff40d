// The rules about ends (docs/guarantees.md): an ended session never comes back, whatever arrives
// late; when sign-ins and sign-outs of one session race, one wins; and a request sent before an
// end that answers after it does not put its older cookie back in the browser.
import type { Exchange } from '../record.ts'
import { ENDS, type Facts, type Violation } from './facts.ts'

const v = (rule: string, ex: Exchange, message: string): Violation => ({ rule, n: ex.n, message })

/** Whether a request's load found `id` not live: it loaded nothing, or a cookie after it. */
function foundNotLive(ex: Exchange, id: string): boolean {
  const at = ex.candidates.indexOf(id)
  if (at < 0 || !ex.seen) return false
  return ex.seen.loaded === null || ex.candidates.indexOf(ex.seen.loaded) > at
}

/** When each session was certainly over: a 200 end answered, or a load that found it not live. */
export function overAt(facts: Facts): Map<string, { tick: number; why: string }> {
  const over = new Map<string, { tick: number; why: string }>()
  const note = (id: string, tick: number, why: string) => {
    if (tick < (over.get(id)?.tick ?? Number.POSITIVE_INFINITY)) over.set(id, { tick, why })
  }
  for (const ex of facts.record.exchanges) {
    const loaded = ex.seen?.loaded
    if (loaded && ENDS.has(ex.cmd.op) && ex.status === 200)
      note(loaded, ex.done, `#${ex.n} ${ex.cmd.op} ended it`)
    for (const id of ex.candidates) {
      if (foundNotLive(ex, id)) note(id, ex.done, `#${ex.n} found it not live`)
    }
  }
  for (const s of facts.record.stale)
    if (s.kind === 'ended') note(s.id, -1, 'signed out before the run')
  return over
}

/** An ended session never comes back: no later request loads it, and it is not live at the end. */
export function endedSessionsNeverComeBack(facts: Facts): Violation[] {
  const out: Violation[] = []
  const rule = 'an ended session never comes back'
  const over = overAt(facts)
  for (const ex of facts.record.exchanges) {
    const loaded = ex.seen?.loaded
    const end = loaded ? over.get(loaded) : undefined
    if (loaded && end && ex.sent > end.tick)
      out.push(v(rule, ex, `loaded ${loaded.slice(0, 6)}… live again (${end.why})`))
  }
  for (const item of facts.record.items) {
    const end = item.id && over.get(item.id)
    if (item.live && end)
      out.push({ rule, message: `${item.id?.slice(0, 6)}… is live at the end (${end.why})` })
  }
  return out
}

/** Of the sign-ins and sign-outs that loaded one session, never a sign-in and another end both 200. */
export function oneEndWins(facts: Facts): Violation[] {
  const out: Violation[] = []
  for (const s of facts.sessions.values()) {
    const won = s.enders.filter((e) => e.status === 200)
    const signIns = won.filter((e) => e.cmd.op === 'signin')
    if (signIns.length && won.length > 1) {
      const who = won.map((e) => `#${e.n} ${e.cmd.op}`).join(', ')
      out.push(
        v(
          'one end wins a race',
          signIns[0],
          `${who} all answered 200 for ${s.id.slice(0, 6)}…: a sign-in and another end both won`,
        ),
      )
    }
  }
  return out
}

/**
 * A stale request never replaces a newer cookie. A request whose session a sign-in or sign-out of
 * its browser ended, answering after that end, sets no cookie (but a refresh whose write the table
 * took before the end); nor does a read whose clearing of
 * a dead cookie would clear the cookie a sign-in gave meanwhile. Not judged (docs/guarantees.md
 * does not say): a sign-in or sign-out itself; a change that started a new session because its
 * cookies named none; a request on one of two sessions its browser started at once (two tabs
 * without a session each start one: whichever cookie the browser keeps, the other is lost to it).
 */
export function staleRequestsKeepNewerCookies(facts: Facts): Violation[] {
  const out: Violation[] = []
  const rule = 'a stale request never replaces a newer cookie'
  const over = overAt(facts)
  const during = (e: Exchange, ex: Exchange) =>
    e.status === 200 && e.browser === ex.browser && ex.sent < e.done && e.done < ex.done
  for (const ex of facts.record.exchanges) {
    if (ENDS.has(ex.cmd.op) || ex.status !== 200 || !ex.cookies.length) continue
    const loaded = ex.seen?.loaded
    const after = ex.cookies[ex.cookies.length - 1]
    const ender = loaded && facts.sessions.get(loaded)?.enders.find((e) => during(e, ex))
    // A 200 refreshing the session it loaded wrote before the end (a later write is refused):
    // the answers crossed in the network, the one order docs/guarantees.md says no server prevents.
    const crossed = after !== 'clear' && after.id === loaded
    if (ender && !crossed) {
      out.push(
        v(
          rule,
          ex,
          `${ex.cmd.op} answered after #${ender.n} ${ender.cmd.op} ended its session, with Set-Cookie ${JSON.stringify(after)}`,
        ),
      )
      continue
    }
    const replaced = ex.jarAtDone ? facts.sessions.get(ex.jarAtDone) : undefined
    const signIn = replaced?.origin
    const live = replaced && !((over.get(replaced.id)?.tick ?? Number.POSITIVE_INFINITY) < ex.done)
    if (after === 'clear' && signIn?.cmd.op === 'signin' && during(signIn, ex) && live) {
      out.push(
        v(
          rule,
          ex,
          `${ex.cmd.op} cleared the cookie #${signIn.n} signin gave while it was in flight`,
        ),
      )
    }
  }
  return out
}
