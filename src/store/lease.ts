/**
 * @module The `locking` lease on a session item: taken by the load (a conditional UpdateItem
 * that returns the item), waited for with jittered backoff within the request's budget, given
 * back by the save's own write or on its own. A take carries a stamp like every write
 * (`tokens.ts`), so a take that lands after its request gave up can be refused for good.
 */
import { type RequestTable, type SessionTable, within } from '../connection.ts'
import { DynamoSessionError } from '../errors.ts'
import { Expression, live } from './expressions.ts'
import { type Item, keyOf, N, parseItem, type StoredSession } from './item.ts'
import { updateItem, write } from './store.ts'
import { newStamp, type Stamp, tokensAfter } from './tokens.ts'

/**
 * What a take found: the item with the lease now ours, 'held' by another request, an item
 * written by 0.1 (which has no token map to take it with), or an item that is not live.
 */
type Taken =
  | { item: Item; held: true }
  | { item: Item | undefined; held: false }
  | 'held'
  | { legacy: StoredSession }

/**
 * Takes the lease on a live item and returns the item, in one conditional UpdateItem. Returns
 * 'held' when another request holds a live lease, and the item as it is (expired, ended, none)
 * when it is not a live session.
 */
async function takeLease(
  table: SessionTable,
  key: string,
  lease: Stamp,
  leaseMs: number,
): Promise<Taken> {
  const now = Date.now()
  const x = new Expression()
  const held = x.path('lease')
  const own = x.path('w', lease.token)
  const r = await write(
    table,
    'UpdateItem',
    {
      Key: keyOf(key),
      UpdateExpression: `SET ${held} = ${x.value(N(now + leaseMs))}, ${x.path('leaseOwner')} = ${x.value({ S: lease.token })}, ${own} = ${x.value(N(lease.at))}`,
      ConditionExpression: `${live(x, Math.floor(now / 1000))} AND attribute_not_exists(${own}) AND ${x.path('wf')} <= ${x.value(N(lease.at))} AND (attribute_not_exists(${held}) OR ${held} < ${x.value(N(now))})`,
      ReturnValues: 'ALL_NEW',
    },
    x,
  )
  if (!('current' in r)) return { item: r.answer.Attributes as Item, held: true }
  const { current } = r
  const isLive = current.data && !current.end && Number(current.expires?.N) > now / 1000
  if (!isLive)
    return { item: current.data || current.end ? (current as Item) : undefined, held: false }
  if (!current.v) {
    const found = parseItem(current, Math.floor(now / 1000))
    if (found.state === 'live') return { legacy: found.session }
  }
  // Our own take, applied by an attempt whose reply was lost.
  if (current.leaseOwner?.S === lease.token && Number(current.lease?.N) > now) {
    return { item: current as Item, held: true }
  }
  return 'held'
}

/**
 * Gives the lease back without changing the session, pruning old tokens when `w` (the tokens
 * the take returned) is known; a lease already lost is no error.
 */
export async function releaseLease(
  table: SessionTable,
  key: string,
  lease: Stamp,
  w: Record<string, number> | undefined,
  keepMs: number,
): Promise<void> {
  const x = new Expression()
  const { pruned, floor } = tokensAfter(w ?? {}, lease, keepMs)
  const removes = [x.path('lease'), x.path('leaseOwner'), ...pruned.map((t) => x.path('w', t))]
  // The floor rises past the pruned tokens, and never goes down.
  const raise = floor === undefined ? '' : `${x.path('wf')} = ${x.value(N(floor))}`
  await write(
    table,
    'UpdateItem',
    {
      Key: keyOf(key),
      UpdateExpression: `REMOVE ${removes.join(', ')}${raise && ` SET ${raise}`}`,
      ConditionExpression: `${x.path('leaseOwner')} = ${x.value({ S: lease.token })}${raise && ` AND ${raise.replace(' = ', ' <= ')}`}`,
    },
    x,
  )
}

/**
 * After a take whose outcome is unknown (it failed on a timeout or a lost reply, and may still
 * land): marks its token used, so it can never land from now on; if the token is there already,
 * the take landed, and the lease is given back. Marking first leaves no moment at which a take
 * could land unseen.
 */
export async function refuseLateTake(
  table: SessionTable,
  key: string,
  lease: Stamp,
): Promise<void> {
  const x = new Expression()
  const own = x.path('w', lease.token)
  const marked = await write(
    table,
    'UpdateItem',
    {
      Key: keyOf(key),
      UpdateExpression: `SET ${own} = ${x.value(N(lease.at))}`,
      ConditionExpression: `attribute_exists(${x.path('data')}) AND attribute_not_exists(${own})`,
    },
    x,
  )
  if (!('current' in marked) || !marked.current.w?.M?.[lease.token]) return
  const y = new Expression()
  await write(
    table,
    'UpdateItem',
    {
      Key: keyOf(key),
      UpdateExpression: `REMOVE ${y.path('lease')}, ${y.path('leaseOwner')}`,
      ConditionExpression: `${y.path('leaseOwner')} = ${y.value({ S: lease.token })}`,
    },
    y,
  )
}

/**
 * Takes the lease, waiting while another request holds it, up to `waitMs` and within the
 * request's budget.
 * @returns the item, whether this request now holds the lease on it, and the stamp it took it with
 * @throws LOCK_TIMEOUT when the lease stayed held past `waitMs` or the budget
 */
export async function waitForLease(
  table: RequestTable,
  key: string,
  token: string,
  { leaseMs, waitMs }: { leaseMs: number; waitMs: number },
  keepMs: number,
  background: (work: Promise<unknown>) => void,
): Promise<{ item: Item | undefined; held: boolean; lease: Stamp }> {
  const deadline = Date.now() + Math.min(waitMs, table.left())
  for (let attempt = 1; ; attempt++) {
    // Each try is stamped anew: the ones before it were refused, so none of them can land.
    const lease = { token, at: Date.now() }
    let got: Taken
    try {
      got = await takeLease(table, key, lease, leaseMs)
    } catch (error) {
      // An attempt may have taken the lease, or may still: give it back, and refuse it for good.
      background(refuseLateTake(table.raw, key, lease).catch(() => {}))
      throw error
    }
    if (got === 'held') {
      // Equal jitter: never a tight loop, and waiters spread out.
      const step = Math.min(200, 10 * 2 ** attempt)
      const delay = step / 2 + (Math.random() * step) / 2
      if (Date.now() + delay > deadline) {
        throw new DynamoSessionError(
          'LOCK_TIMEOUT',
          `lease held past locking.waitMs (${waitMs} ms) or the request's retry.budgetMs`,
        )
      }
      await table.sleep(delay)
    } else if ('legacy' in got) {
      // Upgraded by a write of nothing, then taken like any other.
      const now = Math.floor(Date.now() / 1000)
      const empty = { set: {}, remove: [], increment: {}, flash: {} }
      await updateItem(table, key, {
        changes: empty,
        stored: got.legacy,
        now,
        stamp: newStamp(),
        keepMs,
      })
    } else return { ...got, lease }
  }
}

/** A lease this request holds: given back once, by the save's own write or by `release()`. */
export class Lease {
  readonly key: string
  readonly stamp: Stamp
  /** The tokens of the item as the take returned it, for the release to prune. */
  readonly w: Record<string, number> | undefined
  #held = true

  constructor(key: string, stamp: Stamp, w: Record<string, number> | undefined) {
    this.key = key
    this.stamp = stamp
    this.w = w
  }

  /** A write that ended or released the lease on its own (the save's write, a tombstone). */
  released(): void {
    this.#held = false
  }

  /** Gives the lease back unless a write did: within the budget left, else in the background. */
  async release(
    table: RequestTable,
    keepMs: number,
    background: (work: Promise<unknown>) => void,
  ): Promise<void> {
    if (!this.#held) return
    this.#held = false
    const done = releaseLease(table.raw, this.key, this.stamp, this.w, keepMs).catch(() => {})
    if (table.left() > 0) await within(done, table.left(), 'release').catch(() => background(done))
    else background(done)
  }
}
