// The rules about flash values (docs/guarantees.md, "Flash values have identity"): a value comes
// only from a flash into the session's lineage that may have been stored; it is delivered (shown
// by a 200) at most once; a newer value is never replaced by an older one; and a value answered
// 200 is not lost: by the end it was delivered, or a request that may have consumed it ran.
// Every request consumes the flash values it loaded; every handler shows `takeFlash('f')`.
import type { Exchange } from '../record.ts'
import {
  effectEnd,
  type Facts,
  lineage,
  mayHaveWritten,
  targetOf,
  type Violation,
} from './facts.ts'

const v = (rule: string, ex: Exchange, message: string): Violation => ({ rule, n: ex.n, message })

/** The flashes that may have reached a session of `ids`. */
const flashesInto = (facts: Facts, ids: string[]) =>
  facts.record.exchanges.filter((f) => {
    const into = f.cmd.op === 'flash' && mayHaveWritten(f) ? targetOf(facts, f) : undefined
    return !!into && ids.includes(into)
  })

/** A flash value shown comes from a flash into the loaded session's lineage, sent before. */
export function flashValuesComeFromTheirSession(facts: Facts): Violation[] {
  const out: Violation[] = []
  for (const ex of facts.record.exchanges) {
    const shown = ex.seen?.flash
    if (shown === undefined) continue
    const loaded = ex.seen?.loaded
    const from = loaded ? flashesInto(facts, lineage(facts, loaded)) : []
    if (!from.some((f) => f.value === shown && f.sent < ex.done)) {
      const by = facts.record.exchanges.find((f) => f.value === shown)
      out.push(
        v(
          'a 409 stores nothing; nothing of an ended session is carried over',
          ex,
          `shows flash ${JSON.stringify(shown)}, not flashed into this session (by ${by ? `#${by.n} ${by.cmd.op}, answered ${by.status}` : 'nobody'})`,
        ),
      )
    }
  }
  return out
}

/** A value is shown by at most one 200, unless the one that showed it reported a failed clean-up. */
export function flashIsDeliveredAtMostOnce(facts: Facts): Violation[] {
  const out: Violation[] = []
  const shown = facts.record.exchanges.filter(
    (ex) => ex.status === 200 && ex.seen?.flash !== undefined,
  )
  for (const first of shown) {
    if (first.errors.length) continue
    const again = shown.find((ex) => ex.seen?.flash === first.seen?.flash && first.done < ex.sent)
    if (again)
      out.push(
        v(
          'flash values are delivered at most once',
          again,
          `shows ${JSON.stringify(again.seen?.flash)} again, already shown by #${first.n} ${first.cmd.op}`,
        ),
      )
  }
  return out
}

/** A 200 delivery never shows a value a later flash (sent after it was stored) replaced. */
export function flashIsNeverReplacedByAnOlderValue(facts: Facts): Violation[] {
  const out: Violation[] = []
  for (const ex of facts.record.exchanges) {
    const shown = ex.seen?.flash
    const loaded = ex.seen?.loaded
    if (ex.status !== 200 || shown === undefined || !loaded) continue
    const flashes = flashesInto(facts, lineage(facts, loaded))
    const older = flashes.find((f) => f.value === shown)
    const newer =
      older &&
      flashes.find((f) => f.status === 200 && effectEnd(older) < f.sent && f.done < ex.sent)
    if (newer)
      out.push(
        v(
          'a flash is never replaced by an older value',
          ex,
          `shows ${JSON.stringify(shown)} although #${newer.n} flashed ${JSON.stringify(newer.value)} after it`,
        ),
      )
  }
  return out
}

/** By the end, each 200 flash into a browser's last session was shown, or may have been consumed. */
export function flashIsNotLost(facts: Facts): Violation[] {
  const out: Violation[] = []
  for (const last of facts.record.exchanges) {
    const loaded = last.seen?.loaded
    if (!last.final || last.cmd.op !== 'read' || !loaded) continue
    const ids = lineage(facts, loaded)
    // Any request that loaded a flash of the lineage after this one was sent may have consumed it.
    const consumers = facts.record.exchanges.filter(
      (ex) =>
        mayHaveWritten(ex) &&
        ex.seen?.flash !== undefined &&
        !!ex.seen.loaded &&
        ids.includes(ex.seen.loaded),
    )
    for (const f of flashesInto(facts, ids)) {
      if (f.status !== 200 || f.done > last.sent) continue
      if (!consumers.some((ex) => ex.done > f.sent))
        out.push(
          v(
            'a 2xx flash is not lost',
            f,
            `flash ${JSON.stringify(f.value)} answered 200, never shown, and no request after it loaded a flash`,
          ),
        )
    }
  }
  return out
}
