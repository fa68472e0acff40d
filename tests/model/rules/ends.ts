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
 * A request sent with a cookie that a sign-in or sign-out then ended, answering after that end
 * answered, sets no cookie: it would put the ended session's cookie back over the newer one.
 */
export function staleRequestsKeepNewerCookies(facts: Facts): Violation[] {
  const out: Violation[] = []
  for (const ex of facts.record.exchanges) {
    const loaded = ex.seen?.loaded
    if (!loaded || ENDS.has(ex.cmd.op) || ex.status !== 200 || !ex.cookies.length) continue
    const end = facts.sessions
      .get(loaded)
      ?.enders.find(
        (e) => e.status === 200 && e.browser === ex.browser && ex.sent < e.done && e.done < ex.done,
      )
    if (end)
      out.push(
        v(
          'a stale request never replaces a newer cookie',
          ex,
          `${ex.cmd.op} answered after #${end.n} ${end.cmd.op} ended ${loaded.slice(0, 6)}…, and set ${JSON.stringify(ex.cookies[0])}`,
        ),
      )
  }
  return out
}
