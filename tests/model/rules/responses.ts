// The rules about each answer on its own (docs/guarantees.md, "The lifecycle of a session" and
// "Writes"): which statuses a request may get, which cookies it may set, and that a browser only
// ever sees its own sessions and its own data.
import type { Exchange } from '../record.ts'
import { writerOf } from '../record.ts'
import { createdId, type Facts, isChange, type Violation } from './facts.ts'

const v = (rule: string, ex: Exchange, message: string): Violation => ({ rule, n: ex.n, message })

/** 200, 409 (refused, nothing stored) or 503 (transient); 500 only when the handler threw. */
export function statusesAreDocumented(facts: Facts): Violation[] {
  const out: Violation[] = []
  for (const ex of facts.record.exchanges) {
    const thrown = ex.cmd.op === 'throw'
    const allowed = thrown ? [500, 503] : [200, 409, 503]
    if (!allowed.includes(ex.status)) {
      out.push(
        v(
          'no 500 unless a handler threw',
          ex,
          `${ex.cmd.op} answered ${ex.status} (onError: ${ex.errors.join(' ') || 'nothing'})`,
        ),
      )
    }
  }
  return out
}

/** A refused or failed request sets no cookie: only a stored change may. */
export function failuresSetNoCookie(facts: Facts): Violation[] {
  return facts.record.exchanges
    .filter((ex) => ex.status !== 200 && ex.cookies.length)
    .map((ex) =>
      v(
        'a 409 stores nothing',
        ex,
        `${ex.cmd.op} answered ${ex.status} with Set-Cookie ${JSON.stringify(ex.cookies)}`,
      ),
    )
}

/** What a 200 may set, by what the request did (the table of docs/guarantees.md). */
function cookieProblem(facts: Facts, ex: Exchange): string | undefined {
  const loaded = ex.seen?.loaded ?? null
  const created = createdId(facts, ex)
  const refresh = ex.cookies.every((c) => c !== 'clear' && c.id === loaded)
  const cookies = ex.cookies.length
  if (ex.cookies.some((c) => c !== 'clear' && c.maxAge <= 0)) return 'a cookie with no lifetime'
  if (cookies > 1) return `${cookies} session cookies in one answer`
  if (ex.cmd.op === 'signin') return created ? undefined : 'a sign-in without a new session id'
  if (ex.cmd.op === 'signout') {
    return cookies === 1 && ex.cookies[0] === 'clear'
      ? undefined
      : 'a sign-out that does not clear the cookie'
  }
  if (!cookies || refresh) return undefined
  if (created) {
    if (!isChange(ex)) return `a ${ex.cmd.op} that started a new session`
    return loaded ? 'a change of a live session that started another one' : undefined
  }
  if (ex.cookies[0] === 'clear') {
    return isChange(ex) ? 'a change that cleared the cookie' : undefined
  }
  return 'a cookie naming a session the request did not load, and not a new one'
}

/** Only these answers touch the cookie: a new session, a sign-in, a sign-out, a refresh, a clear. */
export function cookiesFitTheRequest(facts: Facts): Violation[] {
  const out: Violation[] = []
  for (const ex of facts.record.exchanges) {
    if (ex.status !== 200) continue
    const problem = cookieProblem(facts, ex)
    if (problem)
      out.push(
        v(
          'only these answers send Set-Cookie',
          ex,
          `${ex.cmd.op}: ${problem} (${JSON.stringify(ex.cookies)})`,
        ),
      )
  }
  return out
}

/** No cookie ever names another browser's session, and no browser sees another's data. */
export function browsersSeeOnlyTheirOwn(facts: Facts): Violation[] {
  const out: Violation[] = []
  const rule = "no cookie names another browser's session"
  for (const ex of facts.record.exchanges) {
    for (const c of ex.cookies) {
      const owner = c === 'clear' ? ex.browser : facts.sessions.get(c.id)?.owner
      if (owner !== ex.browser)
        out.push(v(rule, ex, `browser ${ex.browser} got a cookie for browser ${owner}'s session`))
    }
    const loaded = ex.seen?.loaded
    if (loaded && !ex.candidates.includes(loaded))
      out.push(v(rule, ex, 'loaded a session its cookies do not name'))
    const seen = ex.seen ? [...Object.values(ex.seen.data), ex.seen.flash] : []
    for (const value of seen) {
      if (value === undefined || typeof value === 'number') continue
      const writer = writerOf(value)
      if (writer !== ex.browser)
        out.push(
          v(
            rule,
            ex,
            `browser ${ex.browser} saw ${JSON.stringify(value)}, written by ${writer === undefined ? 'no browser' : `browser ${writer}`}`,
          ),
        )
    }
  }
  return out
}
