/**
 * @module What makes several DynamoDB Locals behave as one global table (multi-Region eventual
 * consistency): every change read from a region's stream is applied to the other regions after
 * the lag, settled last-writer-wins by write time, never sent back where it came from.
 *
 * Write time. Each item in each region carries a stamp (time, origin region), as each item of a
 * global table carries a private last-write timestamp. A write through a region's endpoint holds
 * that region's lock on every item it writes while it is forwarded and until the stream has been
 * read past its answer, so the stream records of those items during that span are its own. Its
 * time is the middle of the span from forwarding to DynamoDB Local's answer (DynamoDB Local
 * applied it at some instant in there; its ApproximateCreationDateTime is rounded to the minute),
 * raised past the item's stamp if needed. A write that changes nothing leaves no record, hence no
 * change and no new stamp. A record nobody holds the lock for (a TTL delete, a write sent to
 * DynamoDB Local directly) is timed when it is read.
 *
 * Last writer wins. The replicator applies a change to a region under that region's item lock:
 * if the change's stamp is not newer than the item's there, it is dropped silently; otherwise it
 * is written (PutItem of the new image, or DeleteItem) straight to DynamoDB Local, and the stream
 * records the lock sees meanwhile are that write's echo, which is not replicated again.
 */

import { call, type Item, type Json, keyId, now, unref } from './dynamodb.ts'
import type { Answer, Forward } from './proxy.ts'
import { type StreamRecord, Tail } from './tail.ts'

/** A change read from one region's stream, on its way to the others. */
interface Change {
  /** Order of reading, across regions: settle() waits for the changes read before it. */
  seq: number
  table: string
  /** Lock name of the item: table and key. */
  item: string
  keys: Item
  /** The new image; absent for a delete. */
  image?: Item
  time: number
  origin: string
}

/** Which write of an item is the latest: ties (one clock, sub-millisecond) go to a region name. */
interface Stamp {
  time: number
  origin: string
}

const newer = (a: Stamp, b: Stamp | undefined): boolean =>
  !b || a.time > b.time || (a.time === b.time && a.origin > b.origin)

/** Records of the items a write holds, read while it holds them. */
interface Holder {
  records: StreamRecord[]
}

interface Region {
  name: string
  /** DynamoDB Local's own endpoint (the replicator does not go through the proxy). */
  local: string
  tail: Tail
  /** Replicated tables: their key attribute names. */
  tables: Map<string, string[]>
  stamps: Map<string, Stamp>
  holders: Map<string, Holder>
  locks: Map<string, Promise<void>>
  up: boolean
  applied: number
  dropped: number
}

interface Pair {
  from: Region
  to: Region
  queue: Change[]
  /** Changes being applied now: settle() waits for them too. */
  inflight: Change[]
}

/** Counts of the changes that reached a region from the others. */
export interface ReplicationCounts {
  /** Written there by the replicator. */
  applied: number
  /** Not written: the region's copy had a later write (last writer wins). */
  dropped: number
}

const itemName = (table: string, key: string): string => `${table}\u0000${key}`

const RETRY_MS = 100

/** Waits for `name`'s lock in `locks`; returns its release. */
async function lock(locks: Map<string, Promise<void>>, name: string): Promise<() => void> {
  const previous = locks.get(name) ?? Promise.resolve()
  let release = () => {}
  const mine = new Promise<void>((resolve) => {
    release = resolve
  })
  const chain = previous.then(() => mine)
  locks.set(name, chain)
  await previous
  return () => {
    release()
    if (locks.get(name) === chain) locks.delete(name)
  }
}

/** The items a request writes, as lock names, in the tables the replicator knows. */
export function writtenItems(op: string, body: Json, tables: Map<string, string[]>): string[] {
  const items: string[] = []
  const add = (table: string, item: Item | undefined) => {
    const keyNames = tables.get(table)
    if (keyNames && item) items.push(itemName(table, keyId(keyNames, item)))
  }
  if (op === 'PutItem') add(body.TableName, body.Item)
  if (op === 'UpdateItem' || op === 'DeleteItem') add(body.TableName, body.Key)
  if (op === 'BatchWriteItem') {
    for (const [table, requests] of Object.entries(body.RequestItems ?? {}))
      for (const r of requests as Json[]) add(table, r.PutRequest?.Item ?? r.DeleteRequest?.Key)
  }
  if (op === 'TransactWriteItems') {
    for (const t of (body.TransactItems ?? []) as Json[]) {
      const write = t.Put ?? t.Update ?? t.Delete
      add(write?.TableName, t.Put?.Item ?? write?.Key)
    }
  }
  return [...new Set(items)].sort()
}

export class Replicator {
  private readonly regions = new Map<string, Region>()
  private readonly pairs: Pair[] = []
  private readonly waiting = new Set<() => void>()
  private seq = 0
  private paused = false
  private stopped = false

  constructor(private lagMs: number) {}

  /** Adds a region whose DynamoDB Local answers on `local`; add them all before any table. */
  addRegion(name: string, local: string): void {
    const region: Region = {
      name,
      local,
      tail: new Tail(local, (record) => this.onRecord(region, record)),
      tables: new Map(),
      stamps: new Map(),
      holders: new Map(),
      locks: new Map(),
      up: true,
      applied: 0,
      dropped: 0,
    }
    for (const other of this.regions.values()) {
      for (const [from, to] of [
        [region, other],
        [other, region],
      ]) {
        const pair: Pair = { from, to, queue: [], inflight: [] }
        this.pairs.push(pair)
        void this.deliver(pair)
      }
    }
    this.regions.set(name, region)
  }

  /** Starts replicating `table` of `region`, whose stream is `streamArn`. */
  async addTable(region: string, table: string, keyNames: string[], streamArn: string) {
    const r = this.region(region)
    r.tables.set(table, keyNames)
    await r.tail.add(table, streamArn)
    this.poke()
  }

  removeTable(region: string, table: string): void {
    const r = this.region(region)
    r.tables.delete(table)
    r.tail.remove(table)
  }

  /** Serves a request sent to `region`'s endpoint: writes to replicated tables hold their items. */
  async write(region: string, op: string, body: Json, forward: Forward): Promise<Answer> {
    const r = this.region(region)
    const items = writtenItems(op, body, r.tables)
    if (!items.length) return forward()
    const held = await this.holding(
      r,
      items,
      async () => {
        const start = now()
        const answer = await forward()
        return { answer, time: (start + now()) / 2 }
      },
      (records, { time }) => {
        for (const record of records) this.originate(r, record, time)
      },
    )
    return held.answer
  }

  /**
   * Runs `work` holding `items` in `region`, then reads the stream past its end: the records of
   * those items read meanwhile are `work`'s, handed to `then` before the items are released.
   */
  private async holding<T>(
    region: Region,
    items: string[],
    work: () => Promise<T>,
    then: (records: StreamRecord[], value: T) => void = () => {},
  ): Promise<T> {
    const releases: (() => void)[] = []
    for (const item of items) releases.push(await lock(region.locks, item))
    const holder: Holder = { records: [] }
    for (const item of items) region.holders.set(item, holder)
    try {
      const value = await work()
      await region.tail.catchUp()
      then(holder.records, value)
      return value
    } finally {
      for (const item of items) region.holders.delete(item)
      for (const release of releases) release()
    }
  }

  private onRecord(region: Region, record: StreamRecord): void {
    const keyNames = region.tables.get(record.table)
    if (!keyNames) return
    const holder = region.holders.get(itemName(record.table, keyId(keyNames, record.keys)))
    if (holder) holder.records.push(record)
    else this.originate(region, record, now())
  }

  /** A change made in `region` at `time`: stamps the item and sends it to the other regions. */
  private originate(region: Region, record: StreamRecord, time: number): void {
    const keyNames = region.tables.get(record.table)
    if (!keyNames) return
    const item = itemName(record.table, keyId(keyNames, record.keys))
    const previous = region.stamps.get(item)
    // A local write is the latest of its item there: its time never goes back.
    const stamp = { time: previous && previous.time >= time ? previous.time + 0.001 : time }
    region.stamps.set(item, { ...stamp, origin: region.name })
    const change: Change = {
      seq: ++this.seq,
      table: record.table,
      item,
      keys: record.keys,
      image: record.newImage,
      time: stamp.time,
      origin: region.name,
    }
    for (const pair of this.pairs) if (pair.from === region) pair.queue.push(change)
    this.poke()
  }

  /** Applies one change to `to`, unless the item there has a later write. */
  private async apply(to: Region, change: Change): Promise<void> {
    await this.holding(to, [change.item], async () => {
      if (!newer(change, to.stamps.get(change.item))) {
        to.dropped++
        return
      }
      if (change.image) {
        await call(to.local, 'PutItem', { TableName: change.table, Item: change.image })
      } else {
        await call(to.local, 'DeleteItem', { TableName: change.table, Key: change.keys })
      }
      to.stamps.set(change.item, { time: change.time, origin: change.origin })
      to.applied++
    })
  }

  /** The changes of `pair` that can go now, in order; and how long to wait when none can. */
  private due(pair: Pair): { changes: Change[]; waitMs: number } {
    if (this.paused || !pair.from.up || !pair.to.up) return { changes: [], waitMs: Infinity }
    const changes: Change[] = []
    for (const change of pair.queue) {
      // A region without the table keeps its changes until it has one.
      if (!pair.to.tables.has(change.table)) continue
      const waitMs = change.time + this.lagMs - now()
      if (waitMs > 0) return { changes, waitMs: changes.length ? 0 : waitMs }
      changes.push(change)
    }
    return { changes, waitMs: changes.length ? 0 : Infinity }
  }

  /** One pair's delivery: due changes, one item's changes in order, items side by side. */
  private async deliver(pair: Pair): Promise<void> {
    while (!this.stopped) {
      const { changes, waitMs } = this.due(pair)
      if (!changes.length) {
        await this.wait(waitMs)
        continue
      }
      const taken = new Set(changes)
      pair.queue = pair.queue.filter((c) => !taken.has(c))
      pair.inflight = changes
      const byItem = new Map<string, Change[]>()
      for (const c of changes) byItem.set(c.item, [...(byItem.get(c.item) ?? []), c])
      const failed = await Promise.all(
        [...byItem.values()].map(async (ofItem) => {
          for (const [i, change] of ofItem.entries()) {
            try {
              await this.apply(pair.to, change)
            } catch {
              return ofItem.slice(i) // tried again after a pause, in order
            }
          }
          return []
        }),
      )
      pair.queue.unshift(...failed.flat().sort((a, b) => a.seq - b.seq))
      pair.inflight = []
      if (failed.flat().length) await this.wait(RETRY_MS)
    }
  }

  /** Resolves after `ms`, or sooner when something changes (a change, an outage, the lag). */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.add(resolve)
      if (!Number.isFinite(ms)) return
      const timer = setTimeout(() => {
        this.waiting.delete(resolve)
        resolve()
      }, ms)
      unref(timer)
    })
  }

  private poke(): void {
    for (const resolve of this.waiting) resolve()
    this.waiting.clear()
  }

  private region(name: string): Region {
    const region = this.regions.get(name)
    if (!region) {
      throw new Error(`unknown region "${name}"; the regions are ${[...this.regions.keys()]}`)
    }
    return region
  }

  /** Whether changes may leave and reach `region` (its endpoint's outage is the proxy's). */
  setUp(region: string, up: boolean): void {
    this.region(region).up = up
    this.poke()
  }

  setLag(ms: number): void {
    this.lagMs = ms
    this.poke()
  }

  pause(): void {
    this.paused = true
  }

  resume(): void {
    this.paused = false
    this.poke()
  }

  counts(region: string): ReplicationCounts {
    const { applied, dropped } = this.region(region)
    return { applied, dropped }
  }

  /** Changes read up to `seq` that still have to reach a region that is up. */
  private pending(seq: number): { pair: Pair; count: number }[] {
    return this.pairs
      .filter((pair) => pair.from.up && pair.to.up)
      .map((pair) => ({
        pair,
        count: [...pair.inflight, ...pair.queue].filter(
          (c) => c.seq <= seq && pair.to.tables.has(c.table),
        ).length,
      }))
      .filter(({ count }) => count > 0)
  }

  /** Resolves when every change made so far has reached every region that is up. */
  async settle(timeoutMs: number): Promise<void> {
    if (this.paused) {
      throw new Error('settle(): replication is paused, so nothing would arrive; resume() first')
    }
    const deadline = now() + timeoutMs
    const regions = [...this.regions.values()]
    await Promise.all(regions.map((r) => r.tail.catchUp()))
    const mark = this.seq
    for (let left = this.pending(mark); left.length; left = this.pending(mark)) {
      if (now() > deadline || this.paused) throw this.unsettled(left, timeoutMs)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    // Reads the echoes of what was just applied, so counts are final when settle() returns.
    await Promise.all(regions.map((r) => r.tail.catchUp()))
  }

  private unsettled(left: { pair: Pair; count: number }[], timeoutMs: number): Error {
    const which = left.map(({ pair, count }) => `${pair.from.name} → ${pair.to.name}: ${count}`)
    const errors = [...this.regions.values()]
      .filter((r) => r.tail.error)
      .map((r) => `; reading ${r.name}'s stream failed: ${r.tail.error}`)
    const why = this.paused ? 'replication was paused' : `not done after ${timeoutMs} ms`
    return new Error(`settle(): ${why}; changes left (${which.join(', ')})${errors.join('')}`)
  }

  stop(): void {
    this.stopped = true
    this.poke()
    for (const region of this.regions.values()) region.tail.stop()
  }
}
