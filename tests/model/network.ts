// The network between the app instances and DynamoDB, in process: the `fetch` every middleware of
// a model run is given. Each DynamoDB call waits for fast-check's scheduler twice, before it
// reaches DynamoDB and before its reply reaches the client, so the scheduler decides the order in
// which DynamoDB applies calls and the order in which the clients hear back. A request's planned
// fault (tests/model/history.ts) is applied to its calls here. Calls are delivered one at a time:
// DynamoDB's order is the scheduler's.
import { AsyncLocalStorage } from 'node:async_hooks'
import type fc from 'fast-check'
import { sleep } from '../support/clock.ts'
import { isEnd, isLeaseTake, isNewItem, isSave } from '../support/fetch.ts'
import { type Backend, rawHeaders } from './backends.ts'
import type { Fault } from './history.ts'
import { type Mutation, mutate } from './mutations.ts'
import type { Exchange } from './record.ts'
import { SETTINGS } from './settings.ts'
import type { World } from './world.ts'

/** The request a DynamoDB call is made for: the async context of its `app.request()`. */
export const requests: AsyncLocalStorage<Exchange> = new AsyncLocalStorage<Exchange>()

// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
type Body = any

/** What a call is, for the replay. */
function callName(op: string, body: Body): string {
  if (isLeaseTake(op, body)) return 'UpdateItem (lease take)'
  if (isEnd(op, body)) return 'PutItem (tombstone)'
  if (isNewItem(op, body)) return 'PutItem (new item)'
  if (isSave(op, body)) return `${op} (save)`
  if (op === 'UpdateItem' && !body?.ExpressionAttributeNames) return op
  const names = Object.values(body?.ExpressionAttributeNames ?? {})
  return names.includes('leaseOwner') ? `${op} (lease release)` : op
}

/** The fault planned for the `index`-th call of a request, if any. */
function faultFor(fault: Fault | null, index: number, op: string, body: Body, takes: number) {
  if (!fault) return undefined
  if (fault.kind === 'slowTake') return isLeaseTake(op, body) && takes === 0 ? 'late' : undefined
  return index >= fault.call && index < fault.call + fault.times ? fault.kind : undefined
}

const aborted = (signal: AbortSignal | null | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (!signal || signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })

const abortError = () => new DOMException('The operation was aborted', 'AbortError')

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
  })

export interface NetworkOptions {
  scheduler: fc.Scheduler
  backend: Backend
  world: World
  mutation: Mutation
  trace: string[]
}

/**
 * The network of one run. `direct` switches scheduling and faults off (the setup before the
 * history and the final read of the table). `keys` collects every item key a call named.
 */
export function network(o: NetworkOptions) {
  const keys = new Set<string>()
  const takes = new WeakMap<Exchange, number>()
  let direct = false

  const deliver = async (headers: Record<string, string>, op: string, body: Body) =>
    o.world.track(o.backend.deliver(headers, JSON.stringify(mutate(op, body, o.mutation))))

  const gate = (label: string): Promise<void> =>
    direct ? Promise.resolve() : o.scheduler.schedule(Promise.resolve(), label)

  const send: typeof fetch = async (_input, init) => {
    const headers = Object.fromEntries(new Headers(init?.headers).entries())
    const op = (headers['x-amz-target'] ?? '').split('.').pop() ?? ''
    const body = JSON.parse(String(init?.body ?? '{}'))
    const key = body?.Key?.id?.S ?? body?.Item?.id?.S
    const ex = direct ? undefined : requests.getStore()
    if (key) keys.add(key)
    if (key && ex && !ex.keys.includes(key)) ex.keys.push(key)
    const index = ex ? ex.calls.length : 0
    const taken = ex ? (takes.get(ex) ?? 0) : 0
    const kind = ex ? faultFor(ex.cmd.fault, index, op, body, taken) : undefined
    if (ex && isLeaseTake(op, body)) takes.set(ex, taken + 1)
    const name = callName(op, body)
    const who = ex ? `#${ex.n}` : 'setup'
    ex?.calls.push(kind ? `${name} ${kind}` : name)
    await gate(`${who} ${name}${kind ? ` [${kind}]` : ''}`)
    o.trace.push(`  ${who} → ${name}${kind ? ` [${kind}]` : ''}`)
    if (kind === 'throttle') {
      return json(400, { __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException' })
    }
    if (kind === 'hang' || kind === 'late') {
      await aborted(init?.signal)
      if (kind === 'late') {
        gate(`${who} ${name} delivered late`).then(async () => {
          o.trace.push(`  ${who} → ${name} delivered late`)
          await deliver(headers, op, body).catch(() => {})
        })
      }
      throw abortError()
    }
    const answer = await deliver(headers, op, body)
    // Half the client's timeout: the timer fires once nothing else can move.
    if (kind === 'slow') await sleep(SETTINGS.retry.timeoutMs / 2)
    if (kind === 'lost') throw new TypeError('fetch failed: the reply was lost')
    if (kind === 'lost500') return json(500, { __type: 'InternalServerError', message: 'lost' })
    await gate(`${who} ${name} replied ${answer.status}`)
    return new Response(answer.text, {
      status: answer.status,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
    })
  }

  return {
    fetch: send,
    keys,
    /** Runs `work` with scheduling and faults off. */
    async direct<T>(work: () => Promise<T>): Promise<T> {
      direct = true
      try {
        return await work()
      } finally {
        direct = false
      }
    },
    /** A GetItem straight to DynamoDB, outside any request. */
    async read(table: string, key: string): Promise<Body> {
      const answer = await o.backend.deliver(
        rawHeaders('GetItem'),
        JSON.stringify({ TableName: table, Key: { id: { S: key } }, ConsistentRead: true }),
      )
      return JSON.parse(answer.text).Item
    },
  }
}

export type Network = ReturnType<typeof network>
