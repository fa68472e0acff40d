// What a model run does, as fast-check generates it: browsers, each with tabs that send requests
// one after another (so the tabs of a browser run concurrently), each request to one of the app
// instances, some with a fault on one of their DynamoDB calls. How they interleave is not part
// of the history: fast-check's scheduler decides that (tests/model/runner.ts).
import fc from 'fast-check'

/** What a request does (the routes of tests/model/app.ts), or a pause of its tab. */
export type Op =
  | 'signin'
  | 'signout'
  | 'set'
  | 'delete'
  | 'increment'
  | 'flash'
  | 'take'
  | 'read'
  | 'throw'
  | 'pause'

/**
 * What the network does to a request's DynamoDB calls, from its `call`-th call (counted from 0,
 * retries included) for `times` calls:
 * - lost: DynamoDB applies the call, the reply is lost (a network error)
 * - lost500: DynamoDB applies the call, the client gets a 500 instead of the reply
 * - late: the call is held until the client times out, then delivered (a late duplicate)
 * - hang: the call is never delivered; the client times out
 * - throttle: a 400 ThrottlingException, not delivered
 * - slowTake: with `locking`, the request's lease take is held past the client's timeout, then
 *   delivered (a take that lands after the client gave up)
 * - slow: DynamoDB applies the call, its reply comes within the client's timeout but only once
 *   everything else has settled (other requests in flight answer first)
 */
export type FaultKind = 'lost' | 'lost500' | 'late' | 'hang' | 'throttle' | 'slowTake' | 'slow'

export interface Fault {
  kind: FaultKind
  call: number
  times: number
}

export interface Command {
  op: Op
  /** The key of `set` and `delete`. */
  key: 'a' | 'b'
  /** Which app instance serves the request. */
  instance: number
  /** How long a pause lasts. */
  seconds: number
  fault: Fault | null
}

/**
 * A browser: its tabs, and the `sid` cookie another path or parent domain left in it, sent first
 * and never replaced: one naming a session signed out just before the run, or one with a bad
 * signature.
 */
export interface BrowserPlan {
  stale: 'none' | 'ended' | 'forged'
  tabs: Command[][]
}

export interface History {
  /** Seeds Math.random and crypto.getRandomValues for the run (ids, tokens, jitter). */
  seed: number
  browsers: BrowserPlan[]
}

/** How many app instances (separate Hono apps with their own middleware) share the table. */
export const INSTANCES = 2

const fault: fc.Arbitrary<Fault> = fc.record({
  kind: fc.oneof(
    { weight: 3, arbitrary: fc.constant<FaultKind>('lost') },
    { weight: 1, arbitrary: fc.constant<FaultKind>('lost500') },
    { weight: 3, arbitrary: fc.constant<FaultKind>('late') },
    { weight: 1, arbitrary: fc.constant<FaultKind>('hang') },
    { weight: 2, arbitrary: fc.constant<FaultKind>('throttle') },
    { weight: 1, arbitrary: fc.constant<FaultKind>('slowTake') },
    { weight: 2, arbitrary: fc.constant<FaultKind>('slow') },
  ),
  call: fc.integer({ min: 0, max: 3 }),
  times: fc.oneof(
    { weight: 6, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.constant(2) },
    { weight: 1, arbitrary: fc.constant(4) },
  ),
})

const op: fc.Arbitrary<Op> = fc.oneof(
  ...(
    [
      ['signin', 3],
      ['signout', 2],
      ['set', 4],
      ['delete', 1],
      ['increment', 3],
      ['flash', 2],
      ['take', 2],
      ['read', 3],
      ['pause', 3],
      ['throw', 1],
    ] as const
  ).map(([o, weight]) => ({ weight, arbitrary: fc.constant<Op>(o) })),
)

const command: fc.Arbitrary<Command> = fc.record({
  op,
  key: fc.constantFrom<'a' | 'b'>('a', 'b'),
  instance: fc.integer({ min: 0, max: INSTANCES - 1 }),
  // Into the next second (the expiry moves: refreshed cookies), past the grace (60 s) and the
  // token keep time, past touchAfter (maxAge 3600: 360 s).
  seconds: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(0.4, 1) },
    { weight: 1, arbitrary: fc.constantFrom(61, 400) },
  ),
  // About half the requests meet a fault.
  fault: fc.option(fault, { freq: 2 }),
})

/** Random histories; `size` bounds the browsers, tabs and requests. */
export function histories(size: { browsers: number; tabs: number; commands: number }) {
  return fc.record({
    seed: fc.noShrink(fc.integer()),
    browsers: fc.array(
      fc.record({
        stale: fc.oneof(
          { weight: 5, arbitrary: fc.constant<BrowserPlan['stale']>('none') },
          { weight: 2, arbitrary: fc.constant<BrowserPlan['stale']>('ended') },
          { weight: 1, arbitrary: fc.constant<BrowserPlan['stale']>('forged') },
        ),
        tabs: fc.array(fc.array(command, { minLength: 1, maxLength: size.commands }), {
          minLength: 1,
          maxLength: size.tabs,
        }),
      }),
      { minLength: 1, maxLength: size.browsers },
    ),
  }) satisfies fc.Arbitrary<History>
}

/** One command as a replay shows it: `set a @1 [lost at call 2]`. */
export function describeCommand(c: Command): string {
  const what =
    c.op === 'set' || c.op === 'delete'
      ? `${c.op} ${c.key}`
      : c.op === 'pause'
        ? `pause ${c.seconds} s`
        : c.op
  const f = c.fault
  const faulty =
    f && c.op !== 'pause'
      ? ` [${f.kind} at call ${f.call}${f.times > 1 ? ` ×${f.times}` : ''}]`
      : ''
  return c.op === 'pause' ? what : `${what} @${c.instance}${faulty}`
}

/** A history as a replay shows it: one line per tab. */
export function describeHistory(h: History): string {
  const lines = [`seed of the run's randomness: ${h.seed}`]
  h.browsers.forEach((b, i) => {
    const stale = b.stale === 'none' ? '' : ` (sends first a stale sid: ${b.stale})`
    lines.push(`browser ${i}${stale}`)
    b.tabs.forEach((tab, t) => {
      lines.push(`  tab ${t}: ${tab.map(describeCommand).join(', ')}`)
    })
  })
  return lines.join('\n')
}
