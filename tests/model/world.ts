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
  /** Moves time forward by `ms`, firing the timers that fall due on the way. */
  advance(ms: number): void
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

/** Installs the world for one run; `restore()` puts the real clock, randomness and crypto back. */
export function enterWorld(seed: number): World {
  const real = {
    now: Date.now,
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
    random: Math.random,
  }
  // A few milliseconds before a second ends: requests on either side of it see the expiry move,
  // so refreshed cookies are part of every run.
  let now = (Math.floor(real.now() / 1000) + 1) * 1000 - 1 - (Math.abs(seed) % 25)
  let ids = 0
  const timers: Timer[] = []
  const pending = new Set<Promise<unknown>>()
  const random = prng(seed)

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
  const clock: Clock = {
    now: () => now,
    advance(ms) {
      const until = now + ms
      for (let t = earliest(); t && t.at <= until; t = earliest()) fire(t)
      now = until
    },
    fireNext() {
      const t = earliest()
      if (t) fire(t)
      return !!t
    },
    timers: () => timers.length,
  }

  Date.now = () => now
  // A handle with what Node's Timeout has, for code that unrefs or refreshes it.
  globalThis.setTimeout = ((fn: () => void, ms = 0) => {
    const t = { id: ++ids, at: now + Math.max(0, Number(ms) || 0), fn }
    timers.push(t)
    return {
      id: t.id,
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
    const id = Number(handle)
    const i = timers.findIndex((t) => t.id === id)
    if (i >= 0) timers.splice(i, 1)
  }) as typeof clearTimeout
  Math.random = random
  const webCrypto = globalThis.crypto
  webCrypto.getRandomValues = (<T extends ArrayBufferView | null>(array: T): T => {
    const bytes = new Uint8Array(array?.buffer as ArrayBuffer, array?.byteOffset, array?.byteLength)
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256)
    return array
  }) as Crypto['getRandomValues']

  const track = <T>(work: Promise<T>): Promise<T> => {
    const tracked = work.finally(() => {
      pending.delete(tracked)
    })
    pending.add(tracked)
    return tracked
  }
  const subtle = webCrypto.subtle as unknown as Record<
    string,
    (...a: unknown[]) => Promise<unknown>
  >
  for (const name of SUBTLE) {
    const original = subtle[name].bind(webCrypto.subtle)
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
      Date.now = real.now
      globalThis.setTimeout = real.setTimeout
      globalThis.clearTimeout = real.clearTimeout
      Math.random = real.random
      delete (webCrypto as unknown as Record<string, unknown>).getRandomValues
      for (const name of SUBTLE) delete subtle[name]
    },
  }
}
