/**
 * @module The breakers of a global table: which regions calls keep away from after failures, and
 * when one call probes a region again.
 */

/** Transient failures in a row (each past its retries) that open a region's breaker. */
export const FAILURES = 3
/** How long an open breaker keeps calls away before one goes through as a probe. */
export const COOLDOWN_MS = 5000

/**
 * The breakers of one global table, per isolate: a region that failed `FAILURES` calls in a row
 * (timeouts, 5xx, throttling, network errors: each after its retries; never a failed condition)
 * is kept out of every route for `COOLDOWN_MS`; then the next call to it is the probe, which
 * closes the breaker when the region answers, or opens it for another cooldown.
 */
export class Breakers {
  readonly #state = new Map<string, { failures: number; until: number }>()
  readonly #failures: number
  readonly #cooldownMs: number

  constructor(failures: number = FAILURES, cooldownMs: number = COOLDOWN_MS) {
    this.#failures = failures
    this.#cooldownMs = cooldownMs
  }

  /** True while the region's breaker keeps calls away from it. */
  isOpen(region: string): boolean {
    const b = this.#state.get(region)
    return !!b && b.failures >= this.#failures && b.until > Date.now()
  }

  /** A call is going to the region: past the cooldown it is the probe, and others keep away. */
  calling(region: string): void {
    const b = this.#state.get(region)
    if (b && b.failures >= this.#failures) b.until = Date.now() + this.#cooldownMs
  }

  /** What a call found: `ok` when the region answered (a refused condition included). */
  report(region: string, ok: boolean): void {
    const b = this.#state.get(region) ?? { failures: 0, until: 0 }
    b.failures = ok ? 0 : b.failures + 1
    b.until = b.failures >= this.#failures ? Date.now() + this.#cooldownMs : 0
    this.#state.set(region, b)
  }
}
