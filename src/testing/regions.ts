/**
 * @module The regions of a multi-region kit (`memoryDynamoDB({ regions })`): one in-memory
 * database per region, each request routed to the region its SigV4 signature is scoped to, and
 * each region's outages (refused, hung, answering 500) and call counts.
 */
import { answer } from './dispatch.ts'
import { checkLag, createReplicator, type Replica, type Replicator } from './replication.ts'
import { expire } from './ttl.ts'
import { type MemoryTable, viewsOf } from './views.ts'

/**
 * How a region that is down fails: `refuse` the connection, `hang`, or answer `500`.
 * @example
 * ```ts
 * db.region('eu-west-1').down('hang') // requests wait for their timeout, or for up()
 * ```
 */
export type RegionOutage = 'refuse' | 'hang' | '500'

const OUTAGES: readonly RegionOutage[] = ['refuse', 'hang', '500']

/**
 * One region of a multi-region `memoryDynamoDB()`, for faults and assertions.
 * @example
 * ```ts
 * const eu = db.region('eu-west-1')
 * eu.tables.get('sessions')?.items // what eu-west-1 holds now
 * eu.calls.GetItem // how many GetItem calls it served
 * eu.down() // refused until eu.up()
 * ```
 */
export interface MemoryRegion {
  readonly name: string
  /** A `fetch` that answers from this region, whatever region the request is signed for. */
  fetch: typeof fetch
  /** This region's tables by name, with the changes that have arrived from the others. */
  readonly tables: ReadonlyMap<string, MemoryTable>
  /** How many requests this region has answered, by operation (`{ GetItem: 3, … }`). */
  readonly calls: Readonly<Record<string, number>>
  /** `undefined` while the region is up, else how it fails. */
  readonly outage: RegionOutage | undefined
  /**
   * Takes the region down: requests are refused (a `fetch` that rejects as for a refused
   * connection), hang (until their signal aborts, or until `up()`, which answers them) or are
   * answered 500. It neither sends nor receives changes meanwhile.
   * @param how default `'refuse'`
   */
  down(how?: RegionOutage): void
  /** Brings the region back: it receives and sends, in order, the changes it missed. */
  up(): void
  /**
   * Deletes, as DynamoDB's TTL process does, the items of TTL-enabled tables whose TTL attribute
   * is a number of epoch seconds before `now`; the deletions replicate like any write.
   * @param now default `Date.now()`, in ms
   * @returns how many items were deleted
   */
  expire(now?: number): number
}

/**
 * What `memoryDynamoDB({ regions })` returns: a DynamoDB global table's regions in memory.
 * @example
 * ```ts
 * const db = memoryDynamoDB({ regions: ['us-east-1', 'eu-west-1'], replicationLagMs: 1000 })
 * // pass db.fetch as the fetch option; each call goes to the region it is signed for
 * await db.settle() // every write made so far is now in both regions
 * ```
 */
export interface MemoryGlobalDynamoDB {
  /**
   * A `fetch` for every region: each request goes to the region its SigV4 `Authorization` is
   * scoped to (`…/<region>/dynamodb/aws4_request`), whatever the endpoint URL.
   */
  fetch: typeof fetch
  /** The region names, in the order given. */
  readonly regions: readonly string[]
  /** A region, by name. */
  region(name: string): MemoryRegion
  /**
   * Delivers every change made so far to every region that is up, without waiting out the lag;
   * a change to or from a region that is down arrives when it is back (`up()`).
   */
  settle(): Promise<void>
  /** Sets the replication lag, in ms, for the changes on their way too. */
  setLag(ms: number): void
  /** Deletes every table and every change on its way, brings every region up, zeroes the counts. */
  reset(): void
}

/** Checks the `regions` option: distinct names, each fit for a SigV4 credential scope. */
export function checkRegions(regions: unknown): string[] {
  const fit = (r: unknown) => typeof r === 'string' && /^[a-z0-9-]+$/.test(r)
  if (
    !Array.isArray(regions) ||
    regions.length === 0 ||
    !regions.every(fit) ||
    new Set(regions).size !== regions.length
  ) {
    throw new RangeError(
      `memoryDynamoDB(): regions must be distinct region names (lowercase letters, digits and dashes, such as 'us-east-1'), at least one, got ${JSON.stringify(regions)}`,
    )
  }
  return [...regions]
}

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
  })

const SCOPE = /Credential=[^/\s,]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/

/** The region a request is signed for, or the answer DynamoDB gives a request it cannot place. */
function regionOf(request: Request, names: readonly string[]): string | Response {
  const query = new URL(request.url).searchParams.get('X-Amz-Credential')
  const scope = SCOPE.exec(request.headers.get('authorization') ?? `Credential=${query}`)
  const refuse = (type: string, message: string) =>
    json(400, { __type: `com.amazon.coral.service#${type}`, message })
  if (!scope)
    return refuse('MissingAuthenticationTokenException', 'Request is missing Authentication Token')
  if (scope[2] !== 'dynamodb') {
    return refuse(
      'InvalidSignatureException',
      "Credential should be scoped to correct service: 'dynamodb'. ",
    )
  }
  if (!names.includes(scope[1])) {
    return refuse(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region, not '${scope[1]}': memoryDynamoDB() has ${names.join(', ')}`,
    )
  }
  return scope[1]
}

/** A region's state besides its replica: how it fails, the requests it holds, its counts. */
interface Region {
  replica: Replica
  outage: RegionOutage | undefined
  /** Requests hung by a `'hang'` outage, answered in order by `up()`. */
  held: { release(): void }[]
  calls: Record<string, number>
}

/**
 * A refused connection as Node's `fetch` reports it: the library (and most clients) read the
 * cause's `code` to tell a refused connection from other network failures.
 */
const refused = (name: string): TypeError =>
  new TypeError('fetch failed', {
    cause: Object.assign(
      new Error(`connect ECONNREFUSED (memoryDynamoDB() region ${name} is down)`),
      { code: 'ECONNREFUSED' },
    ),
  })

/** Answers a request from a region, or fails as the region's outage does. */
async function serve(replicator: Replicator, region: Region, request: Request): Promise<Response> {
  request.signal.throwIfAborted()
  if (region.outage === 'refuse') throw refused(region.replica.name)
  if (region.outage === '500') {
    return json(500, {
      __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
      message: 'Internal server error',
    })
  }
  if (region.outage === 'hang') return hold(replicator, region, request)
  const text = await request.text()
  replicator.deliver(region.replica)
  return answer(region.replica.db, request.headers.get('x-amz-target'), text, (op, input, ok) => {
    region.calls[op] = (region.calls[op] ?? 0) + 1
    if (ok) replicator.replay(region.replica, op, input)
  })
}

/** Holds a request until its signal aborts (rejected with the reason) or the region is up. */
function hold(replicator: Replicator, region: Region, request: Request): Promise<Response> {
  return new Promise((resolve, reject) => {
    const entry = {
      release() {
        request.signal.removeEventListener('abort', abort)
        serve(replicator, region, request).then(resolve, reject)
      },
    }
    const abort = () => {
      const at = region.held.indexOf(entry)
      if (at >= 0) region.held.splice(at, 1)
      reject(request.signal.reason)
    }
    request.signal.addEventListener('abort', abort, { once: true })
    region.held.push(entry)
  })
}

/** The handle of one region: its `fetch`, tables, counts and outages. */
function handleOf(replicator: Replicator, region: Region): MemoryRegion {
  const { replica } = region
  return {
    name: replica.name,
    fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
      serve(replicator, region, new Request(input, init))) as typeof fetch,
    get tables() {
      replicator.deliver(replica)
      return viewsOf(replica.db.tables)
    },
    get calls() {
      return { ...region.calls }
    },
    get outage() {
      return region.outage
    },
    down(how = 'refuse') {
      if (!OUTAGES.includes(how)) {
        throw new RangeError(
          `region('${replica.name}').down(): how must be 'refuse', 'hang' or '500', got ${JSON.stringify(how)}`,
        )
      }
      region.outage = how
      replicator.connect(replica, false)
    },
    up() {
      region.outage = undefined
      replicator.connect(replica, true)
      for (const entry of region.held.splice(0)) entry.release()
    },
    expire(now = Date.now()) {
      replicator.deliver(replica)
      return expire(replica.db, now)
    },
  }
}

/** The multi-region kit: one database per region, replicated, with one `fetch` for all. */
export function memoryRegions(
  names: readonly string[],
  indexLagMs: number,
  replicationLagMs: number,
): MemoryGlobalDynamoDB {
  const replicator = createReplicator(names, indexLagMs, replicationLagMs)
  const regions = new Map<string, Region>()
  const handles = new Map<string, MemoryRegion>()
  for (const [name, replica] of replicator.replicas) {
    const region: Region = { replica, outage: undefined, held: [], calls: {} }
    regions.set(name, region)
    handles.set(name, handleOf(replicator, region))
  }

  const routed = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    request.signal.throwIfAborted()
    const name = regionOf(request, names)
    if (name instanceof Response) return name
    return serve(replicator, regions.get(name) as Region, request)
  }

  return {
    fetch: routed as typeof fetch,
    regions: [...names],
    region(name) {
      const handle = handles.get(name)
      if (!handle) {
        throw new RangeError(
          `memoryDynamoDB(): no region ${JSON.stringify(name)}; the regions are ${names.join(', ')}`,
        )
      }
      return handle
    },
    async settle() {
      replicator.settle()
    },
    setLag(ms) {
      replicator.lagMs = checkLag('setLag(): the lag', ms)
    },
    reset() {
      replicator.clear()
      for (const handle of handles.values()) handle.up()
      for (const region of regions.values()) region.calls = {}
    },
  }
}
