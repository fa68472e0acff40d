/**
 * @module A DynamoDB global table for tests, made of one DynamoDB Local per region: each region
 * has an endpoint of its own (a proxy that can be taken down and brought back without losing the
 * region's data), and a replicator copies every change to the other regions after a lag, settling
 * concurrent writes to one item last-writer-wins, as global tables' default mode (multi-Region
 * eventual consistency) does. What it models and what it does not: tests/regions/README.md.
 *
 * ```ts
 * const g = await startRegions(['us-east-1', 'eu-west-1', 'ap-southeast-2'], { lagMs: 200 })
 * await g.createTable({ TableName: 'sessions', KeySchema: [...], AttributeDefinitions: [...] })
 * // ... the app talks to g.endpoint('eu-west-1'), any credentials ...
 * await g.down('us-east-1')           // refused; 'hang' never answers, '500' answers 500
 * await g.up('us-east-1')             // its changes, and those for it, are delivered in order
 * await g.settle()                    // every change so far is in every region that is up
 * g.calls('eu-west-1')                // { GetItem: 3, UpdateItem: 1, ... }
 * await g.stop()
 * ```
 *
 * - `startRegions(regions, { lagMs = 0 })`: starts the DynamoDB Locals side by side (free ports;
 *   stopped by PID in `stop()`, or when the process exits).
 * - `endpoint(region)`: the region's endpoint, unchanged across outages.
 * - `createTable(input)`: a CreateTable in every region, with a stream of new and old images.
 *   A CreateTable sent to one region's endpoint also works: that region gets the table (its
 *   StreamSpecification set so), and changes wait for a region until it has the table too.
 * - `down(region, how = 'refuse')` / `up(region)`: the endpoint refuses connections, leaves
 *   requests hanging (reset at `up()`), or answers 500; a reply due while down is lost the same
 *   way. Replication from and to the region waits meanwhile.
 * - `settle({ timeoutMs = 30000 })`: resolves when every change read so far from the regions'
 *   streams has reached every region that is up (lag included); rejects, naming what is left,
 *   after the timeout or at once while paused.
 * - `pause()` / `resume()`: holds and releases replication only; endpoints keep serving.
 * - `setLag(ms)`: the lag from now on, for queued changes too.
 * - `calls(region)`: requests the region's endpoint served, by operation; `resetCalls()`.
 * - `replication(region)`: changes from other regions that were written there (`applied`) or
 *   dropped because the region's copy had a later write (`dropped`).
 * - `local(region)`: the region's DynamoDB Local itself, to look at its data while it is down.
 *   Writes sent there are replicated, but timed when read from the stream.
 */

import { type DynamoDBLocal, QUICK_START, startDynamoDBLocal } from '../infra/dynamodb-local.ts'
import { call, type Json } from './dynamodb.ts'
import { type Answer, type Forward, type Outage, RegionProxy } from './proxy.ts'
import { type ReplicationCounts, Replicator } from './replicator.ts'

export type { Outage } from './proxy.ts'
export type { ReplicationCounts } from './replicator.ts'

export interface RegionsOptions {
  /** How long a change takes to reach the other regions, in ms. @default 0 */
  lagMs?: number
}

export interface Regions {
  readonly regions: readonly string[]
  endpoint(region: string): string
  local(region: string): string
  createTable(input: Json): Promise<void>
  down(region: string, how?: Outage): Promise<void>
  up(region: string): Promise<void>
  settle(options?: { timeoutMs?: number }): Promise<void>
  pause(): void
  resume(): void
  setLag(ms: number): void
  calls(region: string): Record<string, number>
  resetCalls(): void
  replication(region: string): ReplicationCounts
  stop(): Promise<void>
}

const STREAM = { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' }

const keyNamesOf = (description: Json): string[] =>
  (description.KeySchema as Json[]).map((k) => k.AttributeName)

/** A region's requests: tables created through it are replicated, writes go through the replicator. */
function serving(replicator: Replicator, region: string) {
  return async (op: string, body: Json, forward: Forward): Promise<Answer> => {
    if (op === 'CreateTable') {
      const answer = await forward({ ...body, StreamSpecification: STREAM })
      if (answer.status === 200) {
        const { TableDescription } = JSON.parse(answer.text)
        await replicator.addTable(
          region,
          TableDescription.TableName,
          keyNamesOf(TableDescription),
          TableDescription.LatestStreamArn,
        )
      }
      return answer
    }
    if (op === 'DeleteTable') {
      const answer = await forward()
      if (answer.status === 200) replicator.removeTable(region, body.TableName)
      return answer
    }
    return replicator.write(region, op, body, forward)
  }
}

/** Starts one DynamoDB Local per region, each behind its own endpoint, replicated to the others. */
export async function startRegions(
  regions: string[],
  options: RegionsOptions = {},
): Promise<Regions> {
  if (!regions.length || new Set(regions).size !== regions.length) {
    throw new Error(`startRegions: regions must be distinct names, at least one (got ${regions})`)
  }
  const lagMs = options.lagMs ?? 0
  checkLag(lagMs)
  // Several JVMs starting at once on a busy two-core machine have taken over a minute each.
  const started = await Promise.allSettled(
    regions.map(() => startDynamoDBLocal({ javaOptions: [...QUICK_START], timeoutMs: 180_000 })),
  )
  const locals = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const failed = started.find((s) => s.status === 'rejected')
  if (failed) {
    await Promise.all(locals.map((l) => l.stop()))
    throw (failed as PromiseRejectedResult).reason
  }
  const replicator = new Replicator(lagMs)
  const proxies = new Map<string, RegionProxy>()
  const byRegion = new Map<string, DynamoDBLocal>()
  try {
    for (const [i, region] of regions.entries()) {
      byRegion.set(region, locals[i])
      replicator.addRegion(region, locals[i].endpoint)
      const proxy = new RegionProxy(locals[i].endpoint, serving(replicator, region))
      await proxy.listen()
      proxies.set(region, proxy)
    }
  } catch (error) {
    replicator.stop()
    await Promise.all([...proxies.values()].map((p) => p.close()))
    await Promise.all(locals.map((l) => l.stop()))
    throw error
  }
  return handle(regions, replicator, proxies, byRegion)
}

function checkLag(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`lagMs must be 0 or more ms (got ${ms})`)
}

function handle(
  regions: string[],
  replicator: Replicator,
  proxies: Map<string, RegionProxy>,
  locals: Map<string, DynamoDBLocal>,
): Regions {
  const proxy = (region: string): RegionProxy => {
    const p = proxies.get(region)
    if (!p) throw new Error(`unknown region "${region}"; the regions are ${regions.join(', ')}`)
    return p
  }
  let stopped: Promise<void> | undefined
  return {
    regions: [...regions],
    endpoint: (region) => proxy(region).endpoint,
    local(region) {
      proxy(region) // names the regions when this one is unknown
      return locals.get(region)!.endpoint
    },
    async createTable(input) {
      await Promise.all(
        regions.map(async (region) => {
          const endpoint = locals.get(region)!.endpoint
          const { TableDescription } = await call(endpoint, 'CreateTable', {
            ...input,
            StreamSpecification: STREAM,
          })
          await replicator.addTable(
            region,
            TableDescription.TableName,
            keyNamesOf(TableDescription),
            TableDescription.LatestStreamArn,
          )
        }),
      )
    },
    async down(region, how = 'refuse') {
      await proxy(region).down(how)
      replicator.setUp(region, false)
    },
    async up(region) {
      await proxy(region).up()
      replicator.setUp(region, true)
    },
    settle: ({ timeoutMs = 30_000 } = {}) => replicator.settle(timeoutMs),
    pause: () => replicator.pause(),
    resume: () => replicator.resume(),
    setLag(ms) {
      checkLag(ms)
      replicator.setLag(ms)
    },
    calls: (region) => proxy(region).calls(),
    resetCalls() {
      for (const p of proxies.values()) p.resetCalls()
    },
    replication: (region) => replicator.counts(region),
    stop() {
      stopped ??= (async () => {
        replicator.stop()
        await Promise.all([...proxies.values()].map((p) => p.close()))
        await Promise.all([...locals.values()].map((l) => l.stop()))
      })()
      return stopped
    },
  }
}
