// What the reference model knows of a run, derived from the record alone (never from the
// library's code): which browser each session belongs to, where it came from (created by a
// change, by a sign-in from nothing, or moved by a sign-in from another session, its parent),
// which requests may have ended it, and which requests wrote what into it.
//
// Time is the browsers' logical time: a request is in flight from `sent` to `done`. A request
// answered 200 did what it did within that interval; one answered 503 may have, and if one of its
// DynamoDB calls was delivered late, may still do it after its answer (`effectEnd`). A 409, or a
// handler that threw, did nothing.
import type { Exchange, RunRecord, Stale } from '../record.ts'

export interface Violation {
  rule: string
  /** The request it is about, if one. */
  n?: number
  message: string
}

export interface SessionFacts {
  id: string
  owner: number
  /** The request whose answer first named it; undefined for a stale cookie's session. */
  origin: Exchange | undefined
  /** The session a sign-in moved it from (its data carried over). */
  parent: string | undefined
  /** Sign-ins and sign-outs that loaded it and answered 200 (it ended) or 503 (it may have). */
  enders: Exchange[]
  /** Set for a stale cookie's session. */
  stale: Stale | undefined
}

export interface Facts {
  record: RunRecord
  sessions: Map<string, SessionFacts>
  /** The browser whose stale cookie names a session: the session of the setup. */
  stale: Map<number, Stale>
}

export const ENDS = new Set(['signin', 'signout'])
export const CHANGES = new Set(['set', 'delete', 'increment', 'flash'])

/** Whether a request changed its session: a delete of a key it did not see changes nothing. */
export const isChange = (ex: Exchange): boolean =>
  CHANGES.has(ex.cmd.op) &&
  !(ex.cmd.op === 'delete' && ex.seen && !Object.hasOwn(ex.seen.data, ex.cmd.key))

/** Until when a request may still change something: forever for a 503 with a late delivery. */
export const effectEnd = (ex: Exchange): number =>
  ex.status === 503 && ex.calls.some((c) => c.endsWith(' late'))
    ? Number.POSITIVE_INFINITY
    : ex.done

/** Whether the network did something to one of a request's DynamoDB calls. */
export const faulty = (ex: Exchange): boolean =>
  ex.calls.some((c) => / (lost|lost500|late|hang|throttle|slow)$/.test(c))

/** Whether two requests were in flight (or may have had effects) at the same time. */
export const overlap = (a: Exchange, b: Exchange): boolean =>
  a.sent < effectEnd(b) && b.sent < effectEnd(a)

/** A request whose writes may have happened: 200 (they did) or 503 (they may have). */
export const mayHaveWritten = (ex: Exchange): boolean => ex.status === 200 || ex.status === 503

/** The session id a request's Set-Cookie gave it, when it is a new one. */
export const createdId = (facts: Facts, ex: Exchange): string | undefined => {
  for (const c of ex.cookies) {
    if (c !== 'clear' && facts.sessions.get(c.id)?.origin === ex) return c.id
  }
}

/** The session a request's writes went to: the one it loaded, or the one it created. */
export const targetOf = (facts: Facts, ex: Exchange): string | undefined =>
  ex.seen?.loaded ?? (ex.status === 200 ? createdId(facts, ex) : undefined)

/** A session and the sessions it was moved from, newest first. */
export function lineage(facts: Facts, id: string): string[] {
  const out: string[] = []
  for (let at: string | undefined = id; at && !out.includes(at); ) {
    out.push(at)
    at = facts.sessions.get(at)?.parent
  }
  return out
}

/** Derives the facts; sessions named first by a response that should not have named one still get an entry. */
export function factsOf(record: RunRecord): Facts {
  const sessions = new Map<string, SessionFacts>()
  const stale = new Map<number, Stale>()
  for (const s of record.stale) {
    stale.set(s.browser, s)
    const enders: Exchange[] = []
    sessions.set(s.id, {
      id: s.id,
      owner: s.browser,
      origin: undefined,
      parent: undefined,
      enders,
      stale: s,
    })
  }
  const byDone = [...record.exchanges].sort((a, b) => a.done - b.done)
  for (const ex of byDone) {
    for (const c of ex.cookies) {
      if (c === 'clear' || sessions.has(c.id)) continue
      const parent = ex.cmd.op === 'signin' ? (ex.seen?.loaded ?? undefined) : undefined
      sessions.set(c.id, {
        id: c.id,
        owner: ex.browser,
        origin: ex,
        parent,
        enders: [],
        stale: undefined,
      })
    }
  }
  for (const ex of record.exchanges) {
    const loaded = ex.seen?.loaded
    if (loaded && ENDS.has(ex.cmd.op) && mayHaveWritten(ex)) sessions.get(loaded)?.enders.push(ex)
  }
  return { record, sessions, stale }
}
