// What one model run records, for the reference model (tests/model/rules/) to judge: every
// request as its browser and its handler saw it, the stale cookies, and the items left at the end.
import type { Command } from './history.ts'

/** A cookie a response set: a session id with its Max-Age, or the clearing of the cookie. */
export type SetCookie = { id: string; maxAge: number } | 'clear'

/** What the handler saw when it ran: the session it loaded and what it could read. */
export interface Seen {
  /** The id of the session loaded, or null when none was (a new session). */
  loaded: string | null
  data: Record<string, unknown>
  /** What `takeFlash('f')` gave. */
  flash: unknown
}

/** One request, from its browser's side and its handler's. */
export interface Exchange {
  /** Its number in the run: also what makes the values it writes unique. */
  n: number
  browser: number
  tab: number
  cmd: Command
  /** The value it writes (set, flash, the user of a sign-in): `b<browser>-<n>`. */
  value: string
  /** One of the last requests, sent once the history is over (no faults). */
  final: boolean
  /** Logical time: when the browser sent it and when it stored the answer. */
  sent: number
  done: number
  /** Virtual epoch seconds when it was sent: the request's `now`. */
  second: number
  /** Virtual epoch milliseconds when its answer came. */
  doneMs: number
  /** The session ids its Cookie header named, in order; a bad signature as `forged:<id>`. */
  candidates: string[]
  /** The id in the browser's own cookie when sent, and when the answer came. */
  jarAtSend: string | undefined
  jarAtDone: string | undefined
  status: number
  cookies: SetCookie[]
  /** Undefined when no handler ran (the load failed). */
  seen: Seen | undefined
  /** The codes `onError` was told, in order. */
  errors: string[]
  /** What the network did to its DynamoDB calls, in order (`UpdateItem lost`…). */
  calls: string[]
  /** The item keys its calls named. */
  keys: string[]
}

/** The session a browser's stale cookie names. */
export interface Stale {
  browser: number
  kind: 'ended' | 'forged'
  id: string
  /** When it was signed out (virtual epoch seconds); a forged one names that session too. */
  endedAt: number
  /** The cookie value the browser sends. */
  cookie: string
}

/** An item of the table at the end, by the session id it belongs to (when one is known). */
export interface FinalItem {
  key: string
  /** The id whose stored key this is, or undefined when no cookie ever named it. */
  id: string | undefined
  live: boolean
  ended: boolean
  data: Record<string, unknown>
  /** A lease that had not expired at the end. */
  leased: boolean
}

export interface RunRecord {
  locking: boolean
  exchanges: Exchange[]
  stale: Stale[]
  items: FinalItem[]
  /** A line per event, for a readable replay. */
  trace: string[]
  /** The virtual time at the end, epoch milliseconds. */
  endedAtMs: number
}

/** The value a request writes. */
export const writtenValue = (browser: number, n: number): string => `b${browser}-${n}`

/** The browser a value was written by. */
export const writerOf = (value: unknown): number | undefined => {
  const m = typeof value === 'string' ? /^b(\d+)-\d+$/.exec(value) : null
  return m ? Number(m[1]) : undefined
}
