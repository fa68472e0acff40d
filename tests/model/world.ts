// The world one model run lives in, so that a seed replays exactly: a virtual clock (Date.now,
// setTimeout, clearTimeout move only when the driver moves them), randomness drawn from the run's
// seed (Math.random, crypto.getRandomValues: ids, tokens, backoff jitter), and a count of the real
// asynchronous work still going on (DynamoDB Local's replies, Web Crypto on the thread pool), so
// the driver can tell when everything that can move without it has settled.
import { prng } from '../../bench/lib.ts'

interface Timer {
  id: number
  at: number
  fn: () => void
}

/** The virtual clock's side the driver holds. */
export interface Clock {
  /** Virtual epoch milliseconds. */
  now(): number
  /** Moves time forward by `ms`; the timers that fall due wait for `fireDue()`. */
  advance(ms: number): void
  /** Fires the earliest timer that is due; false when none is. */
  fireDue(): boolean
  /** Moves time to the earliest timer and fires it; false when no timer is pending. */
  fireNext(): boolean
  /** Pending timers. */
  timers(): number
}

/** What the driver needs of the world, and how to put the real one back. */
export interface World {
  clock: Clock
  /** Counts a piece of real asynchronous work until it settles. */
  track<T>(work: Promise<T>): Promise<T>
  /** Resolves once no real asynchronous work is pending and a few event-loop turns stayed quiet. */
  settled(): Promise<void>
  restore(): void
}

const realSetImmediate = setImmediate
const SUBTLE = ['digest', 'sign', 'verify', 'importKey'] as const

/** A virtual clock installed as Date.now, setTimeout and clearTimeout; `restore()` undoes it. */
function virtualClock(start: number): Clock & { restore(): void } {
  const real = { now: Date.now, setTimeout: globalThis.setTimeout, clearTimeout }
  let now = start
  let ids = 0
  const timers: Timer[] = []
  const fire = (t: Timer) => {
    timers.splice(timers.indexOf(t), 1)
    now = Math.max(now, t.at)
    t.fn()
  }
  const earliest = () =>
    timers.reduce<Timer | undefined>(
      (a, t) => (!a || t.at < a.at || (t.at === a.at && t.id < a.id) ? t : a),
      undefined,
    )
  Date.now = () => now
  // A handle with what Node's Timeout has, for code that unrefs it.
  globalThis.setTimeout = ((fn: () => void, ms = 0) => {
    const t = { id: ++ids, at: now + Math.max(0, Number(ms) || 0), fn }
    timers.push(t)
    return {
      ref() {
        return this
      },
      unref() {
        return this
      },
      hasRef: () => true,
      [Symbol.toPrimitive]: () => t.id,
    }
  }) as unknown as typeof setTimeout
  globalThis.clearTimeout = ((handle: unknown) => {
    const i = timers.findIndex((t) => t.id === Number(handle))
    if (i >= 0) timers.splice(i, 1)
  }) as typeof clearTimeout
  return {
    now: () => now,
    advance(ms) {
      now += ms
    },
    fireDue() {
      const t = earliest()
      if (t && t.at <= now) fire(t)
      return !!t && t.at <= now
    },
    fireNext() {
      const t = earliest()
      if (t) fire(t)
      return !!t
    },
    timers: () => timers.length,
    restore() {
      Date.now = real.now
      globalThis.setTimeout = real.setTimeout
      globalThis.clearTimeout = real.clearTimeout
    },
  }
}

/** Math.random and crypto.getRandomValues drawn from `seed`; the function undoes it. */
function seededRandomness(seed: number): () => void {
  const real = Math.random
  const random = prng(seed)
  Math.random = random
  globalThis.crypto.getRandomValues = (<T extends ArrayBufferView | null>(array: T): T => {
    const bytes = new Uint8Array(array?.buffer as ArrayBuffer, array?.byteOffset, array?.byteLength)
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256)
    return array
  }) as Crypto['getRandomValues']
  return () => {
    Math.random = real
    delete (globalThis.crypto as unknown as Record<string, unknown>).getRandomValues
  }
}

/** Installs the world for one run; `restore()` puts the real clock, randomness and crypto back. */
export function enterWorld(seed: number): World {
  // A few milliseconds before a second ends: requests on either side of it see the expiry move,
  // so refreshed cookies are part of every run.
  const clock = virtualClock((Math.floor(Date.now() / 1000) + 1) * 1000 - 1 - (Math.abs(seed) % 25))
  const unseed = seededRandomness(seed)
  const pending = new Set<Promise<unknown>>()
  const track = <T>(work: Promise<T>): Promise<T> => {
    const tracked = work.finally(() => {
      pending.delete(tracked)
    })
    pending.add(tracked)
    return tracked
  }
  // Web Crypto runs on the thread pool: its work counts as pending.
  const subtle = globalThis.crypto.subtle as unknown as Record<
    string,
    (...a: unknown[]) => Promise<unknown>
  >
  for (const name of SUBTLE) {
    const original = subtle[name].bind(globalThis.crypto.subtle)
    subtle[name] = (...args: unknown[]) => track(original(...args))
  }
  return {
    clock,
    track,
    async settled() {
      for (let quiet = 0; quiet < 3; ) {
        // Real work pending: wait for it rather than spin (DynamoDB Local needs the CPU).
        if (pending.size) await Promise.allSettled([...pending])
        await new Promise((r) => realSetImmediate(r))
        quiet = pending.size ? 0 : quiet + 1
      }
    },
    restore() {
      clock.restore()
      unseed()
      for (const name of SUBTLE) delete subtle[name]
    },
  }
}
