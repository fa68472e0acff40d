/**
 * @module The `locking` lease on a session item: taken by the load (a conditional UpdateItem
 * that returns the item), waited for with jittered backoff within the request's budget, given
 * back by the save's own write or on its own. Every release raises the item's lease floor `lf`
 * to its time, and a take is accepted only if it was sent after the floor: a take that lands
 * after its request gave up, or after its own release, never holds the lease.
 */
import { within } from '../client.ts'
import type { RequestTable, SessionTable } from '../connection.ts'
import { DynamoSessionError } from '../errors.ts'
import { Expression, leaseHeld, live, releasing } from './expressions.ts'
import { type Item, keyOf, N } from './item.ts'
import { write } from './store.ts'
import { newStamp } from './tokens.ts'

/** An item as a take found it, with the lease when the take got it. */
type Taken = { item: Item | undefined; lease?: Lease }

/**
 * Takes the lease on a live item and returns it, in one conditional UpdateItem: 'held' when
 * another request holds a live lease, else the item as it is (expired, ended, none) when it is
 * not a live session.
 */
async function takeLease(
  table: SessionTable,
  key: string,
  token: string,
  leaseMs: number,
): Promise<Taken | 'held'> {
  const now = Date.now()
  const x = new Expression()
  const lease = x.path('lease')
  const owner = x.path('leaseOwner')
  const floor = x.path('lf')
  const ours = x.value({ S: token })
  const sent = x.value(N(now))
  const r = await write(
    table,
    'UpdateItem',
    {
      Key: keyOf(key),
      UpdateExpression: `SET ${lease} = ${x.value(N(now + leaseMs))}, ${owner} = ${ours}`,
      // Our own token: an earlier attempt took the lease and its reply was lost.
      ConditionExpression: `${live(x, Math.floor(now / 1000))} AND (attribute_not_exists(${lease}) OR ${lease} < ${sent} OR ${owner} = ${ours}) AND (attribute_not_exists(${floor}) OR ${floor} < ${sent})`,
      ReturnValues: 'ALL_NEW',
    },
    x,
  )
  if (!('current' in r)) return { item: r.answer.Attributes, lease: { key, token, held: true } }
  const { current } = r
  // Refused on a live item: another request holds the lease (or released it after we sent).
  if (current.data && !current.end && Number(current.expires?.N) > now / 1000) return 'held'
  return { item: current.data || current.end ? (current as Item) : undefined }
}

/**
 * Gives the lease back and raises the floor past every take sent before now. `own`: only if
 * this request holds it; otherwise (a take whose outcome is unknown) whenever no other request
 * holds a live lease, which will raise the floor itself when it gives its lease back.
 */
export async function releaseLease(
  table: SessionTable,
  key: string,
  token: string,
  own = true,
): Promise<void> {
  const x = new Expression()
  const { set, remove } = releasing(x)
  const ours = leaseHeld(x, token)
  await write(
    table,
    'UpdateItem',
    {
      Key: keyOf(key),
      UpdateExpression: `SET ${set} REMOVE ${remove}`,
      ConditionExpression: own
        ? ours
        : // Never on a missing item: UpdateItem would create one, without an expiry.
          `attribute_exists(${x.path('id')}) AND (attribute_not_exists(${x.path('leaseOwner')}) OR ${ours} OR ${x.path('lease')} < ${x.value(N(Date.now()))})`,
    },
    x,
  )
}

/**
 * Takes the lease, waiting while another request holds it, up to `waitMs` and within the
 * request's budget. A take that failed may still land: it is refused for good in the background.
 * @returns the item, and the lease when this request now holds it
 * @throws LOCK_TIMEOUT when the lease stayed held past `waitMs` or the budget
 */
export async function waitForLease(
  table: RequestTable,
  key: string,
  { leaseMs, waitMs }: { leaseMs: number; waitMs: number },
  background: (work: Promise<unknown>) => void,
): Promise<Taken> {
  const { token } = newStamp()
  const deadline = Date.now() + Math.min(waitMs, table.left())
  for (let attempt = 1; ; attempt++) {
    let got: Awaited<ReturnType<typeof takeLease>>
    try {
      got = await takeLease(table, key, token, leaseMs)
    } catch (error) {
      background(releaseLease(table.raw, key, token, false).catch(() => {}))
      throw error
    }
    if (got !== 'held') return got
    // Equal jitter: never a tight loop, and waiters spread out.
    const step = Math.min(200, 10 * 2 ** attempt)
    const delay = step / 2 + (Math.random() * step) / 2
    if (Date.now() + delay > deadline) {
      throw new DynamoSessionError(
        'LOCK_TIMEOUT',
        `lease held past locking.waitMs (${waitMs} ms) or retry.budgetMs`,
      )
    }
    await table.sleep(delay)
  }
}

/** A lease this request holds, until a write gives it back with its own (`held` false). */
export interface Lease {
  readonly key: string
  readonly token: string
  held: boolean
}

/** Gives a lease back unless a write did: within the budget left, else in the background. */
export async function giveBack(
  lease: Lease | undefined,
  table: () => Promise<RequestTable>,
  background: (work: Promise<unknown>) => void,
): Promise<void> {
  if (!lease?.held) return
  lease.held = false
  const t = await table()
  const done = releaseLease(t.raw, lease.key, lease.token).catch(() => {})
  if (t.left() > 0) await within(done, t.left(), 'release').catch(() => background(done))
  else background(done)
}
