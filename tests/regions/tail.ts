/**
 * @module Reads one DynamoDB Local's streams (one per replicated table), in order, and hands each
 * record to a callback. `catchUp()` resolves once every record written before the call has been
 * handed over: DynamoDB Local appends a stream record before it answers the write, so a read that
 * starts after the answer sees it.
 */

import { call, DynamoDBCallError, type Item, type Json, unref } from './dynamodb.ts'

/** One change from a stream, as the replicator needs it. */
export interface StreamRecord {
  table: string
  /** The item's key attributes. */
  keys: Item
  /** The item after the change; absent for a delete. */
  newImage?: Item
}

/** When nobody waits for a read, the stream is still read this often (TTL deletes, stray writes). */
const IDLE_MS = 250
const RETRY_MS = 100
const STREAMS = 'DynamoDBStreams_20120810'

interface Shard {
  id: string
  iterator?: string
  /** The last sequence number read, to start again after an expired iterator. */
  last?: string
}

interface Stream {
  arn: string
  shards: Map<string, Shard>
}

/** Reads the streams of `endpoint` (a DynamoDB Local), calling `onRecord` per record. */
export class Tail {
  private readonly streams = new Map<string, Stream>()
  private waiters: (() => void)[] = []
  private wake: (() => void) | undefined
  private stopped = false
  /** The last read failure, if the latest read failed (for settle()'s timeout message). */
  error: unknown

  constructor(
    private readonly endpoint: string,
    private readonly onRecord: (record: StreamRecord) => void,
  ) {
    void this.loop()
  }

  /** Starts reading `table`'s stream from its beginning. */
  async add(table: string, streamArn: string): Promise<void> {
    const stream: Stream = { arn: streamArn, shards: new Map() }
    await this.describe(stream)
    this.streams.set(table, stream)
  }

  remove(table: string): void {
    this.streams.delete(table)
  }

  /** Resolves when every record written before this call has been handed to `onRecord`. */
  catchUp(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve)
      this.wake?.()
    })
  }

  stop(): void {
    this.stopped = true
    this.wake?.()
    for (const done of this.waiters) done()
    this.waiters = []
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (!this.waiters.length) {
        await new Promise<void>((resolve) => {
          this.wake = resolve
          unref(setTimeout(resolve, IDLE_MS))
        })
      }
      // A read serves those who asked before it started; later ones wait for the next read.
      const served = this.waiters
      this.waiters = []
      try {
        await this.readAll()
        this.error = undefined
      } catch (e) {
        if (this.stopped) return
        this.error = e
        this.waiters.unshift(...served)
        await new Promise((resolve) => unref(setTimeout(resolve, RETRY_MS)))
        continue
      }
      for (const done of served) done()
    }
  }

  private async readAll(): Promise<void> {
    await Promise.all(
      [...this.streams].map(async ([table, stream]) => {
        try {
          for (const shard of stream.shards.values()) await this.readShard(table, stream, shard)
        } catch (e) {
          // A table deleted behind the proxy's back: nothing more to read there.
          if (!(e instanceof DynamoDBCallError && e.type === 'ResourceNotFoundException')) throw e
          if (this.streams.get(table) === stream) this.streams.delete(table)
        }
      }),
    )
  }

  private async readShard(table: string, stream: Stream, shard: Shard): Promise<void> {
    while (shard.iterator && this.streams.get(table) === stream) {
      let page: Json
      try {
        page = await call(this.endpoint, `${STREAMS}.GetRecords`, { ShardIterator: shard.iterator })
      } catch (e) {
        if (!(e instanceof DynamoDBCallError && e.type === 'ExpiredIteratorException')) throw e
        await this.iterator(stream, shard)
        continue
      }
      for (const record of page.Records as Json[]) {
        shard.last = record.dynamodb.SequenceNumber
        this.onRecord({
          table,
          keys: record.dynamodb.Keys,
          newImage: record.eventName === 'REMOVE' ? undefined : record.dynamodb.NewImage,
        })
      }
      shard.iterator = page.NextShardIterator
      if (!shard.iterator) await this.describe(stream)
      if (!(page.Records as Json[]).length) return
    }
  }

  /** Picks up shards not seen yet (all of them at first; children when one closes). */
  private async describe(stream: Stream): Promise<void> {
    const { StreamDescription } = await call(this.endpoint, `${STREAMS}.DescribeStream`, {
      StreamArn: stream.arn,
    })
    for (const { ShardId } of StreamDescription.Shards as Json[]) {
      if (stream.shards.has(ShardId)) continue
      const shard: Shard = { id: ShardId }
      await this.iterator(stream, shard)
      stream.shards.set(ShardId, shard)
    }
  }

  private async iterator(stream: Stream, shard: Shard): Promise<void> {
    const { ShardIterator } = await call(this.endpoint, `${STREAMS}.GetShardIterator`, {
      StreamArn: stream.arn,
      ShardId: shard.id,
      ...(shard.last
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.last }
        : { ShardIteratorType: 'TRIM_HORIZON' }),
    })
    shard.iterator = ShardIterator
  }
}
