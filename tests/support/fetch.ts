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

/** One held call: `reached` settles when the call arrives at the gate. */
export interface Gate {
  reached: Promise<void>
  /** Lets it go: sent on (`before`), or DynamoDB's answer handed back (`after`). */
  release(): void
  /**
   * Fails it with a network error instead. `after`: DynamoDB applied it and the reply is lost.
   * `before`: DynamoDB has not seen it yet; it stays on the wire until `deliver()`.
   */
  lose(): void
  /** Delivers a call lost `before` to DynamoDB now, a late duplicate; DynamoDB's answer. */
  deliver(): Promise<Response>
}

/** What a fault does to every matching call: not forwarded (a 500), or applied with its reply lost. */
export type Fault = 'unavailable' | 'reply-lost'

const lost = (what: string) => new TypeError(`fetch failed: ${what} (a test fault)`)

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
  /** Fails every call that matches from now on. */
  failEvery(match: Match, fault: Fault): void
}

/**
 * A fetch that records every DynamoDB call it forwards to `inner` (the global fetch by default)
 * and can hold chosen calls: `before` the call is sent or `after` DynamoDB answered; a held call
 * is released, or lost. `failEvery()` fails every matching call from then on. The request reaches
 * `inner` as it was given, signal included.
 */
export function recordingFetch(
  inner: typeof fetch = (input, init) => fetch(input, init),
): RecordingFetch {
  const calls: Call[] = []
  type Rule = {
    match: Match
    when: 'before' | 'after'
    arrive(): void
    open: Promise<'release' | 'lose'>
    late?: () => Promise<Response>
  }
  const rules: Rule[] = []
  const faults: { match: Match; fault: Fault }[] = []
  const recording: typeof fetch = async (input, init) => {
    const call = await callOf(input, init)
    calls.push(call)
    const fault = faults.find((f) => f.match(call.op, call.body))?.fault
    if (fault === 'unavailable') {
      return new Response('{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError"}', {
        status: 500,
      })
    }
    const i = rules.findIndex((r) => r.match(call.op, call.body))
    const rule = i >= 0 ? rules.splice(i, 1)[0] : undefined
    if (rule?.when === 'before') {
      rule.arrive()
      if ((await rule.open) === 'lose') {
        // A copy without the client's signal: the client has given up on it.
        const { url, headers } = new Request(input, init)
        const body = call.body === undefined ? undefined : JSON.stringify(call.body)
        rule.late = () => inner(new Request(url, { method: 'POST', headers, body }))
        throw lost('connection lost before DynamoDB read the request')
      }
    }
    const response = await inner(input, init)
    if (fault === 'reply-lost') throw lost('reply lost')
    if (rule?.when !== 'after') return response
    // Read the answer now, so it is DynamoDB's answer to the call as it was applied.
    const answer = await response.text()
    rule.arrive()
    if ((await rule.open) === 'lose') throw lost('reply lost')
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
      let open: (how: 'release' | 'lose') => void = () => {}
      const reached = new Promise<void>((r) => {
        arrive = r
      })
      const rule: Rule = {
        match,
        when,
        arrive,
        open: new Promise((r) => {
          open = r
        }),
      }
      rules.push(rule)
      return {
        reached,
        release: () => open('release'),
        lose: () => open('lose'),
        deliver: () => {
          if (!rule.late) throw new Error('deliver() needs a call held before DynamoDB and lost')
          return rule.late()
        },
      }
    },
    failEvery(match, fault) {
      faults.push({ match, fault })
    },
  }
}

/**
 * A fetch that lets DynamoDB apply the first call matching `match`, then fails it as `fail` says
 * (by default a 500, as if the reply were lost); every other call passes to the global fetch.
 * `lost()` tells whether it has struck; `status()`, what DynamoDB answered to the call it struck.
 */
export function replyLostOnce(
  match: Match,
  fail: () => Response = () => new Response('{"__type":"InternalServerError"}', { status: 500 }),
): { fetch: typeof fetch; lost(): boolean; status(): number | undefined } {
  let status: number | undefined
  return {
    lost: () => status !== undefined,
    status: () => status,
    fetch: async (input, init) => {
      const call = await callOf(input, init)
      const res = await fetch(input, init)
      if (status !== undefined || !match(call.op, call.body)) return res
      status = res.status
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
/** A save that stores a flash value: per key, or the whole item with its flash map. */
export const isFlashSave: Match = (op, body) =>
  (op === 'UpdateItem' && / flash\.\S+ = /.test(spelled(body, 'UpdateExpression'))) ||
  (isWholeSave(op, body) && Object.keys(body.Item.flash?.M ?? {}).length > 0)

/**
 * An expression of a recorded request with its aliases spelled out: `#0.#1` becomes
 * `data.cart`, every value alias becomes `:`, so tests read what was sent, not how it was aliased.
 */
export function spelled(body: Body, expression: string): string {
  const names: Record<string, string> = body?.ExpressionAttributeNames ?? {}
  return String(body?.[expression] ?? '')
    .replace(/#\w+/g, (alias) => names[alias] ?? alias)
    .replace(/:\w+/g, ':')
}
