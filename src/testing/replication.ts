/**
 * @module The replicator of a multi-region kit, after DynamoDB global tables in their default
 * mode (multi-Region eventual consistency): each write made in a region reaches the other
 * regions `lagMs` later as the whole new item or its deletion, item by item (a transaction's
 * items too); concurrent writes to one item are settled last-writer-wins by write time, the
 * losing write dropped silently; table changes (CreateTable, UpdateTable, UpdateTimeToLive)
 * reach every region at once. A region that is offline neither sends nor receives: its changes
 * wait, in order, until it is back.
 */
import type { Database, Table } from './database.ts'
import { DynamoError } from './errors.ts'
import { updateIndexes } from './indexes.ts'
import { CreateTable, UpdateTable } from './tables.ts'
import { UpdateTimeToLive } from './ttl.ts'
import { clone, type Input, type Item } from './values.ts'

/** One write on its way to the other regions. */
interface Change {
  from: Replica
  table: string
  id: string
  /** The item as the write left it; undefined: deleted. */
  item: Item | undefined
  /** The write's place in time across every region: the higher stamp is the later writer. */
  stamp: number
  /** When it was made, in ms. */
  at: number
  /** Due now, whatever the lag: `settle()` was called after it was made. */
  settled: boolean
}

/** One region's copy of the global tables, as the replicator sees it. */
export interface Replica {
  readonly name: string
  readonly db: Database
  /** False while the region is down: it neither sends nor receives changes. */
  online: boolean
  /** When it last came back up (ms): what it missed arrives then, not when it was due. */
  since: number
  /** Changes from the other regions not applied here yet, oldest first. */
  inbox: Change[]
}

/** The regions' copies and what moves between them. */
export interface Replicator {
  readonly replicas: ReadonlyMap<string, Replica>
  /** How long a change takes to reach the other regions, for pending changes too. */
  lagMs: number
  /** Applies, in order, the changes due at a region, if it is up. */
  deliver(to: Replica): void
  /** Takes a region offline, or brings it back and delivers what it missed. */
  connect(replica: Replica, online: boolean): void
  /**
   * Makes every change made so far due, and delivers them to every region that is up; a region
   * that is down gets them when it is back.
   */
  settle(): void
  /** Repeats a table operation that succeeded in one region in every other region. */
  replay(from: Replica, operation: string, input: Input): void
  /** Deletes every table and every change on its way. */
  clear(): void
}

/** A lag option or argument, checked: a finite number of milliseconds, 0 or more. */
export function checkLag(what: string, ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`${what} must be a number of milliseconds, 0 or more, got ${String(ms)}`)
  }
  return ms
}

/**
 * A global table's replicas are one table to the control plane: creating it, adding or removing
 * an index and enabling TTL in one region does it in all. DeleteTable is not here: as in
 * DynamoDB, it deletes one region's replica.
 */
const TABLE_OPERATIONS: Record<string, (db: Database, input: Input) => unknown> = {
  CreateTable,
  UpdateTable,
  UpdateTimeToLive,
}

// The stamp of the last write each table applied to an item, its deletion included: a deletion
// must win over an older put that arrives after it. Tables are never shared between kits.
const stamps = new WeakMap<Table, Map<string, number>>()

function stampsOf(t: Table): Map<string, number> {
  const map = stamps.get(t) ?? new Map<string, number>()
  stamps.set(t, map)
  return map
}

/** Creates one database per region, each telling the replicator of its writes. */
export function createReplicator(
  names: readonly string[],
  indexLagMs: number,
  lagMs: number,
): Replicator {
  let lag = lagMs
  // Stamps are handed out in the order writes are made, whatever their region: the stamp order is
  // the write-time order last-writer-wins goes by, with no two writes at the same time.
  let clock = 0
  const replicas = new Map<string, Replica>()

  const send = (from: Replica, t: Table, id: string, item: Item | undefined): void => {
    const stamp = ++clock
    stampsOf(t).set(id, stamp)
    const at = Date.now()
    const change = { from, table: t.name, id, item: item && clone(item), stamp, at, settled: false }
    for (const replica of replicas.values()) if (replica !== from) replica.inbox.push(change)
  }

  for (const name of names) {
    const replica: Replica = {
      name,
      db: {
        tables: new Map(),
        indexLagMs,
        committed: (t, id, item) => send(replica, t, id, item),
      },
      online: true,
      since: 0,
      inbox: [],
    }
    replicas.set(name, replica)
  }

  const deliver = (to: Replica): void => deliverDue(to, lag)

  return {
    replicas,
    get lagMs() {
      return lag
    },
    set lagMs(ms: number) {
      lag = ms
    },
    deliver,
    connect(replica, online) {
      if (online && !replica.online) replica.since = Date.now()
      replica.online = online
      deliver(replica)
    },
    settle() {
      for (const replica of replicas.values()) {
        for (const change of replica.inbox) change.settled = true
      }
      for (const replica of replicas.values()) deliver(replica)
    },
    replay(from, operation, input) {
      const run = Object.hasOwn(TABLE_OPERATIONS, operation) ? TABLE_OPERATIONS[operation] : null
      if (!run) return
      for (const replica of replicas.values()) {
        if (replica === from) continue
        try {
          run(replica.db, input)
        } catch (error) {
          // A region that already has the table, or no longer has it, keeps what it has.
          if (!(error instanceof DynamoError)) throw error
        }
      }
    },
    clear() {
      for (const replica of replicas.values()) {
        replica.db.tables.clear()
        replica.inbox = []
      }
    },
  }
}

/**
 * Applies, in order, the changes due at a region that is up. A change from a region that is down
 * waits, and so do the later ones from there; the others go ahead, last-writer-wins sorting out
 * any that cross.
 */
function deliverDue(to: Replica, lag: number): void {
  if (!to.online || to.inbox.length === 0) return
  const now = Date.now()
  const held: Change[] = []
  let i = 0
  for (; i < to.inbox.length; i++) {
    const change = to.inbox[i]
    const due = change.at + lag
    if (due > now && !change.settled) break
    if (!change.from.online) held.push(change)
    else apply(to, change, Math.min(now, Math.max(due, to.since, change.from.since)))
  }
  to.inbox = [...held, ...to.inbox.slice(i)]
}

/**
 * Applies one change to a region's copy, unless the copy holds a later write of the item (last
 * writer wins; the change is dropped silently). `at` is when it arrived, for the index lag.
 */
function apply(to: Replica, change: Change, at: number): void {
  const t = to.db.tables.get(change.table)
  // The region's replica of the table was deleted: the change has nowhere to go.
  if (!t) return
  const stamps = stampsOf(t)
  if ((stamps.get(change.id) ?? 0) > change.stamp) return
  stamps.set(change.id, change.stamp)
  const old = t.items.get(change.id)
  if (change.item) t.items.set(change.id, clone(change.item))
  else t.items.delete(change.id)
  updateIndexes(to.db, t, change.id, old, change.item, at)
}
