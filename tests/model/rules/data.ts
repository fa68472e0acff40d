// The rules about data (docs/guarantees.md, "Writes"): every 2xx change stays visible until a
// later change of its key or the end of the session; a 409 stores nothing; what a sign-in carries
// over is the session it moved, and nothing of an ended one; increments count exactly the 2xx'd
// ones, and at most those and the 503'd ones.
//
// Each key of a session is a register. A load (a handler's view, whatever the answer) of session X
// at any moment of its request may show the value of any write to X or to the sessions X was moved
// from (its lineage) that may have happened before the load, unless a write certainly happened
// after that one and before the load was sent (a 200 that began after it ended, and ended before
// the load began). The root of a lineage starts with no keys but what its first request wrote.
import type { Exchange } from '../record.ts'
import {
  ENDS,
  effectEnd,
  type Facts,
  isChange,
  lineage,
  mayHaveWritten,
  targetOf,
  type Violation,
} from './facts.ts'

/** A write of one key that may have reached a session. */
interface Write {
  value: unknown
  sent: number
  /** When it was done at the latest. */
  done: number
  certain: boolean
  by: Exchange | undefined
}

const REGISTERS = ['a', 'b', 'user'] as const
type Register = (typeof REGISTERS)[number]

/** What a request wrote to a key, if it wrote it. */
function written(ex: Exchange, key: Register): { value: unknown } | undefined {
  if (key === 'user') return ex.cmd.op === 'signin' ? { value: ex.value } : undefined
  if (ex.cmd.key !== key) return undefined
  if (ex.cmd.op === 'set') return { value: ex.value }
  if (ex.cmd.op === 'delete') return { value: undefined }
}

/** The writes of `key` that may have reached a session of `ids` (a lineage). */
function writesOf(facts: Facts, ids: string[], key: Register): Write[] {
  const out: Write[] = []
  const at = (ex: Exchange, value: unknown) => ({
    value,
    sent: ex.sent,
    done: effectEnd(ex),
    certain: ex.status === 200,
    by: ex,
  })
  for (const ex of facts.record.exchanges) {
    if (!mayHaveWritten(ex)) continue
    // A sign-in writes its user into the session it creates, not the one it loaded.
    const into = ex.cmd.op === 'signin' ? undefined : targetOf(facts, ex)
    const w = written(ex, key)
    if (w && into && ids.includes(into)) out.push(at(ex, w.value))
  }
  for (const id of ids) {
    const origin = facts.sessions.get(id)?.origin
    if (origin?.cmd.op === 'signin' && key === 'user') out.push(at(origin, origin.value))
  }
  const root = facts.sessions.get(ids[ids.length - 1])?.origin
  if (root && !written(root, key)) out.push(at(root, undefined))
  return out
}

/** A view of a session's data: a handler's load, or an item of the table at the end. */
interface Load {
  n: number | undefined
  loaded: string | null
  data: Record<string, unknown>
  sent: number
  done: number
}

/** Every load of the run: the handlers' views, then the live items left at the end. */
function loadsOf(facts: Facts): Load[] {
  const loads: Load[] = []
  for (const ex of facts.record.exchanges) {
    if (ex.seen) loads.push({ n: ex.n, ...ex.seen, sent: ex.sent, done: ex.done })
  }
  const end = Math.max(0, ...facts.record.exchanges.map((ex) => ex.done)) + 1
  for (const item of facts.record.items) {
    if (item.live && item.id)
      loads.push({ n: undefined, loaded: item.id, data: item.data, sent: end, done: end + 1 })
  }
  return loads
}

const where = (load: Load) =>
  load.n === undefined
    ? { message: `the item of ${load.loaded?.slice(0, 6)}… at the end: ` }
    : { n: load.n, message: '' }

/** Whether a load may show `value` for a key, given the writes that may have reached it. */
function mayShow(writes: Write[], value: unknown, load: Load): boolean {
  return writes.some(
    (w) =>
      w.value === value &&
      w.sent < load.done &&
      !writes.some(
        (later) =>
          later.certain && later.value !== value && w.done < later.sent && later.done < load.sent,
      ),
  )
}

/** Where a value nobody in the lineage wrote came from, for the message. */
function originOf(facts: Facts, value: unknown): string {
  const by = facts.record.exchanges.find((ex) => ex.value === value)
  if (!by) return 'no request'
  return `#${by.n} ${by.cmd.op} of browser ${by.browser}, answered ${by.status}`
}

/** Every load shows, for each key, a value the lineage of the loaded session may hold then. */
export function changesStayVisible(facts: Facts): Violation[] {
  const out: Violation[] = []
  for (const load of loadsOf(facts)) {
    const { loaded, data } = load
    const at = where(load)
    if (!loaded) {
      if (Object.keys(data).length)
        out.push({
          rule: 'a new session starts empty',
          n: at.n,
          message: `loaded no session but saw ${JSON.stringify(data)}`,
        })
      continue
    }
    const ids = lineage(facts, loaded)
    for (const key of REGISTERS) {
      const writes = writesOf(facts, ids, key)
      const value = data[key]
      if (mayShow(writes, value, load)) continue
      const known = writes.some((w) => w.value === value)
      const message = known
        ? `saw ${key} = ${JSON.stringify(value)}, overwritten before it was sent`
        : `saw ${key} = ${JSON.stringify(value)}, never written to this session (by ${originOf(facts, value)})`
      const rule =
        known || value === undefined
          ? 'every 2xx change stays visible'
          : 'a 409 stores nothing; nothing of an ended session is carried over'
      out.push({ rule, n: at.n, message: at.message + message })
    }
  }
  return out
}

/** A load shows at least the increments answered 200 before it and at most those that may have landed. */
export function incrementsCountExactly(facts: Facts): Violation[] {
  const out: Violation[] = []
  for (const load of loadsOf(facts)) {
    const { loaded } = load
    if (!loaded) continue
    const ids = lineage(facts, loaded)
    const increments = facts.record.exchanges.filter((i) => {
      if (i.cmd.op !== 'increment' || !mayHaveWritten(i)) return false
      const into = targetOf(facts, i)
      return !!into && ids.includes(into)
    })
    const least = increments.filter((i) => i.status === 200 && i.done < load.sent).length
    const most = increments.filter((i) => i.sent < load.done).length
    const n = load.data.n ?? 0
    if (typeof n !== 'number' || n < least || n > most) {
      const rule =
        typeof n === 'number' && n > most
          ? 'increments count at most the 2xx and 503 ones'
          : 'increments count every 2xx one'
      const at = where(load)
      out.push({
        rule,
        n: at.n,
        message: `${at.message}saw n = ${JSON.stringify(n)}, expected ${least} to ${most}`,
      })
    }
  }
  return out
}

/**
 * A 2xx change stays visible to its browser: unless an answer to the browser after the change was
 * sent named another session or cleared the cookie (a sign-out, a sign-in from nothing, a second
 * session started at once in another tab), or a sign-in or sign-out answered 503 (it may have
 * ended the session), the browser's last read loads the changed session or one a sign-in moved it
 * to. A stale answer that puts back the cookie of the session before a sign-in breaks this.
 */
export function changesStayWithTheirBrowser(facts: Facts): Violation[] {
  const out: Violation[] = []
  const { exchanges } = facts.record
  for (const last of exchanges) {
    if (!last.final || last.cmd.op !== 'read' || !last.seen) continue
    const sessions = last.seen.loaded ? lineage(facts, last.seen.loaded) : []
    const mine = exchanges.filter((ex) => ex.browser === last.browser && !ex.final)
    const elsewhere = (ex: Exchange, into: string) =>
      (ENDS.has(ex.cmd.op) && ex.status === 503) ||
      (ex.status === 200 &&
        ex.cookies.some((c) => c === 'clear' || !lineage(facts, c.id).includes(into)))
    for (const change of mine) {
      const into = isChange(change) && change.status === 200 && targetOf(facts, change)
      if (!into || sessions.includes(into)) continue
      if (mine.some((ex) => ex !== change && ex.done > change.sent && elsewhere(ex, into))) continue
      out.push({
        rule: 'every 2xx change stays visible',
        n: change.n,
        message: `${change.cmd.op} answered 200 into ${into.slice(0, 6)}…, but #${last.n}, its browser's last read, loads ${last.seen.loaded?.slice(0, 6) ?? 'no session'}`,
      })
    }
  }
  return out
}
