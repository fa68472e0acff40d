// Time and order in tests: real waits, a clock moved by hand, and latches a test opens.

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Moves `Date.now()` by hand for the library and the cookie jar; real time still runs beneath,
 * so retry budgets keep working. `restore()` puts the real clock back: call it in a `finally`.
 */
export function virtualClock(): {
  advance(seconds: number): void
  /** Stops real time beneath: `Date.now()` moves only by `advance()` from now on. */
  freeze(): void
  restore(): void
} {
  const real = Date.now
  let offset = 0
  let frozenAt: number | undefined
  Date.now = () => (frozenAt ?? real()) + offset
  return {
    advance(seconds: number) {
      offset += seconds * 1000
    },
    freeze() {
      frozenAt ??= real()
    },
    restore() {
      Date.now = real
    },
  }
}

/** A promise the test settles by hand: `await latch.opened` waits for `latch.open()`. */
export function latch(): { open(): void; opened: Promise<void> } {
  let open: () => void = () => {}
  const opened = new Promise<void>((r) => {
    open = r
  })
  return { open, opened }
}
