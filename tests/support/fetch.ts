// Fetches that stand between the library and DynamoDB: one that records every call and can hold a
// chosen one until the test lets it go (deterministic interleavings), and the rules that tell
// which call is which by what it does rather than by its expression text.

// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
export type Body = any

/** A DynamoDB call as a recording fetch saw it: the operation and the JSON body. */
export interface Call {
  op: string
  body: Body
}

/** Which DynamoDB call a rule picks. */
export type Match = (op: string, body: Body) => boolean

/** One held call: `reached` settles when the call arrives at the gate; `release()` lets it go. */
export interface Gate {
  reached: Promise<void>
  release(): void
}

/** The operation and body of a request to DynamoDB's JSON API, read from a copy. */
export async function callOf(input: RequestInfo | URL, init?: RequestInit): Promise<Call> {
  const request = new Request(input instanceof Request ? input.clone() : input, init)
  const op = (request.headers.get('x-amz-target') ?? '').split('.').pop() ?? ''
  const text = await request.text()
  return { op, body: text ? JSON.parse(text) : undefined }
}

/** What `recordingFetch()` returns. */
export interface RecordingFetch {
  fetch: typeof fetch
  /** Every call, in order. */
  calls: Call[]
  /** The operations of the calls, in order. */
  ops(): string[]
  /** Forgets the calls so far. */
  reset(): void
  /**
   * Holds the next call that matches: `before` it is sent (DynamoDB has not seen it yet) or
   * `after` DynamoDB answered (it is applied, the reply waits).
   */
  hold(match: Match, when?: 'before' | 'after'): Gate
}

/**
 * A fetch that records every DynamoDB call it forwards to `inner` (the global fetch by default)
 * and can hold chosen calls. The request reaches `inner` as it was given, signal included.
 */
export function recordingFetch(
  inner: typeof fetch = (input, init) => fetch(input, init),
): RecordingFetch {
  const calls: Call[] = []
  const rules: { match: Match; when: 'before' | 'after'; arrive(): void; open: Promise<void> }[] =
    []
  const recording: typeof fetch = async (input, init) => {
    const call = await callOf(input, init)
    calls.push(call)
    const i = rules.findIndex((r) => r.match(call.op, call.body))
    const rule = i >= 0 ? rules.splice(i, 1)[0] : undefined
    if (rule?.when === 'before') {
      rule.arrive()
      await rule.open
    }
    const response = await inner(input, init)
    if (rule?.when !== 'after') return response
    // Read the answer now, so it is DynamoDB's answer to the call as it was applied.
    const answer = await response.text()
    rule.arrive()
    await rule.open
    return new Response(answer, { status: response.status, headers: response.headers })
  }
  return {
    fetch: recording,
    calls,
    ops: () => calls.map((c) => c.op),
    reset: () => {
      calls.length = 0
    },
    hold(match, when = 'before') {
      let arrive: () => void = () => {}
      let release: () => void = () => {}
      const reached = new Promise<void>((r) => {
        arrive = r
      })
      const open = new Promise<void>((r) => {
        release = r
      })
      rules.push({ match, when, arrive, open })
      return { reached, release }
    },
  }
}

/**
 * A fetch that lets DynamoDB apply the first call matching `match`, then fails it as `fail` says
 * (by default a 500, as if the reply were lost); every other call passes to the global fetch.
 * `lost()` tells whether it has struck.
 */
export function replyLostOnce(
  match: Match,
  fail: () => Response = () => new Response('{"__type":"InternalServerError"}', { status: 500 }),
): { fetch: typeof fetch; lost(): boolean } {
  let struck = false
  return {
    lost: () => struck,
    fetch: async (input, init) => {
      const call = await callOf(input, init)
      const res = await fetch(input, init)
      if (struck || !match(call.op, call.body)) return res
      struck = true
      await res.arrayBuffer()
      return fail()
    },
  }
}

const names = (body: Body): string[] => Object.values(body?.ExpressionAttributeNames ?? {})

/** The load of a session with `locking`: the conditional UpdateItem that takes the lease. */
export const isLeaseTake: Match = (op, body) =>
  op === 'UpdateItem' && body?.ReturnValues === 'ALL_NEW' && names(body).includes('leaseOwner')
/** A whole-item write of a stored session: a PutItem conditioned on the version read. */
export const isWholeSave: Match = (op, body) =>
  op === 'PutItem' && !!body?.Item?.data && names(body).includes('v')
/** A save that writes the session's data (per key, or the whole item under its version). */
export const isSave: Match = (op, body) =>
  (op === 'UpdateItem' && body?.ReturnValues !== 'ALL_NEW' && names(body).includes('data')) ||
  isWholeSave(op, body)
/** The PutItem that writes a new session item (a first write, or the new item of a regenerate). */
export const isNewItem: Match = (op, body) =>
  op === 'PutItem' && !!body?.Item?.data && !isWholeSave(op, body)
/** The PutItem of a tombstone: the end of a session (destroy, or the old item of a regenerate). */
export const isEnd: Match = (op, body) => op === 'PutItem' && !!body?.Item?.end
/** The lease given back without a save (a read-only request). */
export const isRelease: Match = (op, body) =>
  op === 'UpdateItem' &&
  !isLeaseTake(op, body) &&
  !isSave(op, body) &&
  names(body).includes('leaseOwner')
