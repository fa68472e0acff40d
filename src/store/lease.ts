/**
 * @module The `locking` lease on a session item: taken by the load (a conditional UpdateItem
 * that returns the item), waited for with jittered backoff, released by the save's own write or
 * on its own.
 */
import { sleep } from '../client.ts'
import { type RequestTable, type SessionTable, within } from '../connection.ts'
import { DynamoSessionError } from '../errors.ts'
import { Expression, live } from './expressions.ts'
import { type Item, keyOf, N } from './item.ts'
import { write } from './store.ts'

/**
 * Takes the lease on a live item and returns the item, in one conditional UpdateItem. Returns
 * 'held' when another request holds a live lease, and the item as it is (expired, ended, `{}`
 * for none) when it is not a live session.
 */
export async function takeLease(
  table: SessionTable,
  key: string,
  token: string,
  leaseMs: number,
): Promise<Record<string, unknown> | 'held'> {
  const now = Date.now()
  const x = new Expression()
  const lease = x.path('lease')
  const owner = x.path('leaseOwner')
  const ours = x.value({ S: token })
  const [answer, current] = await write(
    table,
    'UpdateItem',
    {
      Key: keyOf(key),
      UpdateExpression: `SET ${lease} = ${x.value(N(now + leaseMs))}, ${owner} = ${ours}`,
      // Our own token: an earlier attempt took the lease and its reply was lost.
      ConditionExpression: `${live(x, Math.floor(now / 1000))} AND (attribute_not_exists(${lease}) OR ${lease} < ${x.value(N(now))} OR ${owner} = ${ours})`,
      ReturnValues: 'ALL_NEW',
    },
    x,
  )
  if (!current) return answer?.Attributes as Item
  // The condition failed on a live item: another request holds the lease.
  return current.data && !current.end && Number(current.expires?.N) > now / 1000 ? 'held' : current
}

/** Gives the lease back without changing the session; a lease already lost is no error. */
export async function releaseLease(table: SessionTable, key: string, token: string): Promise<void> {
  const x = new Expression()
  await write(
    table,
    'UpdateItem',
    {
      Key: keyOf(key),
      UpdateExpression: `REMOVE ${x.path('lease')}, ${x.path('leaseOwner')}`,
      ConditionExpression: `${x.path('leaseOwner')} = ${x.value({ S: token })}`,
    },
    x,
  )
}

/**
 * Takes the lease, waiting up to `waitMs` while another request holds it.
 * @returns the item, and whether this request now holds the lease on it
 * @throws LOCK_TIMEOUT when the lease stayed held past `waitMs`
 */
export async function waitForLease(
  table: RequestTable,
  key: string,
  token: string,
  { leaseMs, waitMs }: { leaseMs: number; waitMs: number },
): Promise<{ item: Record<string, unknown> | undefined; held: boolean }> {
  const deadline = Date.now() + waitMs
  for (let attempt = 1; ; attempt++) {
    let got: Awaited<ReturnType<typeof takeLease>>
    try {
      got = await takeLease(table, key, token, leaseMs)
    } catch (error) {
      // An attempt may have taken the lease before its reply was lost: give it back.
      void releaseLease(table.raw, key, token).catch(() => {})
      throw error
    }
    if (got !== 'held') return { item: got, held: !!got && 'data' in got && !got.end }
    // Equal jitter: never a tight loop, and waiters spread out.
    const step = Math.min(200, 10 * 2 ** attempt)
    const delay = step / 2 + (Math.random() * step) / 2
    if (Date.now() + delay > deadline) {
      throw new DynamoSessionError('LOCK_TIMEOUT', `lease held past locking.waitMs (${waitMs} ms)`)
    }
    await sleep(delay)
  }
}

/** A lease this request holds: given back once, by the save's own write or by `release()`. */
export class Lease {
  readonly key: string
  readonly token: string
  #held = true

  constructor(key: string, token: string) {
    this.key = key
    this.token = token
  }

  /** A write that ended or released the lease on its own (the save's write, a tombstone). */
  released(): void {
    this.#held = false
  }

  /** Gives the lease back unless a write did: within the budget left, else in the background. */
  async release(table: RequestTable): Promise<void> {
    if (!this.#held) return
    this.#held = false
    const done = releaseLease(table.raw, this.key, this.token).catch(() => {})
    if (table.left() > 0) await within(done, table.left(), 'release').catch(() => {})
  }
}
