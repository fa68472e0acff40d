/**
 * @module `globalTable()`: the `table` option for a DynamoDB global table. Sessions are read from
 * the nearest replica and written in their home region; a per-region breaker moves a session's
 * writes to the nearest healthy replica when its home fails. A separate export: a single-region
 * app bundles nothing of it.
 */
import type { Context } from 'hono'
import { Breakers } from './breakers.ts'
import { regionEndpoint, type Send } from './client.ts'
import { serializeCookie } from './cookie.ts'
import { DynamoSessionError } from './errors.ts'
import type { TableRouter } from './options.ts'
import { closest } from './places.ts'
import { DEFAULTS } from './settings.ts'

/** Options of `globalTable()`. */
export interface GlobalTableOptions {
  /** The table's name, the same in every region. */
  name: string
  /** The regions with a replica of the table. */
  regions: readonly string[]
  /**
   * The region nearest a request. Default: the closest of `regions` to the coordinates
   * Cloudflare gives each request (`request.cf.latitude`/`longitude`), else the first region.
   */
  nearest?: (c: Context) => string
  /** The DynamoDB endpoint of a region. @default `https://dynamodb.${region}.amazonaws.com` */
  endpoint?: (region: string) => string
  /**
   * When a region's breaker opens: after `failures` failed calls in a row (each past its
   * retries), for `cooldownMs`, after which one call probes it.
   * @default { failures: 3, cooldownMs: 5000 }
   */
  breaker?: { failures?: number; cooldownMs?: number }
}

/** A global table, for the `table` option of `dynamoSession()`. */
export interface GlobalTable extends TableRouter {
  /** The options it was made with. */
  readonly options: GlobalTableOptions
  /** Whether a region's breaker keeps calls away from it now (this isolate's view). */
  isOpen(region: string): boolean
}

/** The region of `regions` closest to the request's coordinates (Cloudflare's), else the first. */
export function nearestByCoordinates(c: Context, regions: readonly string[]): string {
  const cf = (c.req.raw as { cf?: { latitude?: unknown; longitude?: unknown } }).cf
  const here: [number, number] = [Number(cf?.latitude), Number(cf?.longitude)]
  if (!cf || here.some(Number.isNaN) || cf.latitude == null) return regions[0]
  return closest(here, regions)
}

const invalid = (option: string, message: string): never => {
  throw new DynamoSessionError('INVALID_OPTIONS', `globalTable: ${message}`, { option })
}

/** What one request knows of a session's item: its home region and a version it holds. */
interface Place {
  home: string | undefined
  v: number
  /** The region whose copy this request read. */
  from?: string
}

/** The home recorded in an item (the attribute `home`), if any. */
type RawItem = { home?: { S?: string }; v?: { N?: string }; end?: unknown } | undefined

/** The version of an item as read; -1 for none. */
const versionOf = (item: RawItem): number => (item ? Number(item.v?.N ?? 0) : -1)

/** The item key of a call, if it names one. */
const keyOf = (input: Record<string, unknown>): string | undefined =>
  (input.Key as { id?: { S?: string } })?.id?.S ?? (input.Item as { id?: { S?: string } })?.id?.S

/** A write with the item's home recorded in it: a put's item, an update's `SET`. */
function withHome(
  op: string,
  input: Record<string, unknown>,
  home: string,
): Record<string, unknown> {
  if (op === 'PutItem') return { ...input, Item: { ...(input.Item as object), home: { S: home } } }
  const update = String(input.UpdateExpression)
  return {
    ...input,
    UpdateExpression: update.startsWith('SET ')
      ? `SET #h_ = :h_, ${update.slice(4)}`
      : `SET #h_ = :h_ ${update}`,
    ExpressionAttributeNames: { ...(input.ExpressionAttributeNames as object), '#h_': 'home' },
    ExpressionAttributeValues: {
      ...(input.ExpressionAttributeValues as object),
      ':h_': { S: home },
    },
    // The new version, for the region cookie's lower bound (no write units: only the answer grows).
    ReturnValues: input.ReturnValues ?? 'UPDATED_NEW',
  }
}

/** The table and what a route needs of it. */
interface Table {
  regions: readonly string[]
  endpoint: (region: string) => string
  breakers: Breakers
  nearest: (c: Context) => string
}

/** What signs the region cookie: the middleware's cookie signer. */
type Signer = Parameters<TableRouter['route']>[3]

/** What a route needs of the middleware's settings: retries and the session cookie. */
type RouteSettings = Parameters<TableRouter['route']>[2]

/** The region cookie's name: the session cookie's, then `-r` (a `__Host-` prefix stays). */
const cookieName = (s: RouteSettings): string => `${s.cookie.name}-r`

/** How much of the item key the region cookie carries to name its session (96 bits). */
const PREFIX = 16

/**
 * One request's route. Reads go to the nearest healthy replica and are trusted when its copy is
 * at least the version the region cookie carries (or is the home's); otherwise the home is read,
 * and when the home cannot answer, the newest copy any region gives. Writes go to the session's
 * home, or, while its breaker is open, to the nearest healthy region, which becomes its home;
 * each write to a live session sends the region cookie with its home and new version.
 */
class Route {
  readonly #t: Table
  readonly #c: Context
  readonly #clientOf: (at: { region: string; endpoint: string }) => Send
  readonly #s: RouteSettings
  readonly #signer: Signer
  readonly #places = new Map<string, Place>()
  #order: string[] | undefined
  /** What the request's region cookie said: the key's start, the home and the version. */
  readonly #said: Promise<{ key: string; home: string; v: number } | undefined>
  /** What the region cookie says now, to send it only when that changes. */
  #says: string | undefined

  /** For the table tools: an item is read at its home only (or the call fails). */
  readonly #strict: boolean

  constructor(
    t: Table,
    c: Context,
    clientOf: (at: { region: string; endpoint: string }) => Send,
    s: RouteSettings,
    signer: Signer,
    strict = false,
  ) {
    this.#strict = strict
    this.#t = t
    this.#c = c
    this.#clientOf = clientOf
    this.#s = s
    this.#signer = signer
    // Read once, when a call first needs it; a cookie that cannot be checked is no cookie.
    this.#said = this.#readCookie().catch(() => undefined)
  }

  send: Send = (op, input, budget) => {
    const key = keyOf(input)
    if (!key) return this.#call(this.#ordered()[0], op, input, budget)
    if (op !== 'GetItem') return this.#write(op, key, input, budget)
    return this.#strict ? this.#readAtHome(key, input, budget) : this.#read(key, input, budget)
  }

  /** The request's region cookie, if one verifies (signed with the first secret). */
  async #readCookie() {
    const name = cookieName(this.#s)
    for (const pair of (this.#c.req.header('cookie') ?? '').split(';')) {
      const [k, value = ''] = pair.trim().split('=')
      if (k !== name) continue
      const payload = this.#signer ? value.slice(0, -44) : value
      if (this.#signer && !same(await this.#signer.sign(payload), value)) continue
      const [key, home, v] = payload.split('~')
      if (key?.length === PREFIX && this.#t.regions.includes(home) && /^\d{1,15}$/.test(v)) {
        this.#says = payload
        return { key, home, v: Number(v) }
      }
    }
  }

  /** Sends the region cookie for a session this request wrote, when what it says changed. */
  async #sendCookie(key: string, p: Place): Promise<void> {
    const payload = `${key.slice(0, PREFIX)}~${p.home}~${p.v}`
    if (payload === this.#says) return
    this.#says = payload
    const value = this.#signer ? await this.#signer.sign(payload) : payload
    const { cookie, absoluteMaxAge } = this.#s
    const attributes = { ...cookie, name: cookieName(this.#s) }
    this.#c.header('Set-Cookie', serializeCookie(value, absoluteMaxAge, attributes), {
      append: true,
    })
  }

  /** What this request knows of a key: at first, what the region cookie says of it. */
  async #place(key: string): Promise<Place> {
    let p = this.#places.get(key)
    if (!p) {
      const said = await this.#said
      const ours = said?.key === key.slice(0, PREFIX)
      p = ours && said ? { home: said.home, v: said.v } : { home: undefined, v: 0 }
      this.#places.set(key, p)
    }
    return p
  }

  /** The regions, nearest first, those with an open breaker last. */
  #ordered(): string[] {
    if (this.#order) return this.#order
    const { regions, breakers } = this.#t
    const first = this.#t.nearest(this.#c)
    if (!regions.includes(first)) {
      invalid('nearest', `nearest(c) returned ${JSON.stringify(first)}, not one of the regions`)
    }
    const all = [first, ...regions.filter((r) => r !== first)]
    this.#order = [
      ...all.filter((r) => !breakers.isOpen(r)),
      ...all.filter((r) => breakers.isOpen(r)),
    ]
    return this.#order
  }

  /** One call in a region; what it found goes to the region's breaker. */
  // biome-ignore lint/suspicious/noExplicitAny: DynamoDB answers are JSON shaped by the operation
  async #call(region: string, op: string, input: object, budget?: number): Promise<any> {
    const { breakers } = this.#t
    breakers.calling(region)
    try {
      const client = this.#clientOf({ region, endpoint: this.#t.endpoint(region) })
      const out = await client(op, input as Record<string, unknown>, budget)
      breakers.report(region, true)
      return out
    } catch (error) {
      breakers.report(region, !(error as DynamoSessionError).transient)
      throw error
    }
  }

  /** Reads an item where it can be trusted (see the class). */
  async #read(key: string, input: Record<string, unknown>, budget?: number) {
    const p = await this.#place(key)
    const near = this.#ordered()
    const home = p.home ?? this.#t.regions[0]
    const { breakers } = this.#t
    // Regions whose breaker is open are asked only when every region's is.
    const up = near.filter((r) => !breakers.isOpen(r))
    const tries = [
      ...new Set([near[0], ...(up.includes(home) ? [home] : []), ...(up.length ? up : near)]),
    ]
    let best: { Item?: RawItem } | undefined
    let from: string | undefined
    let failed: unknown
    for (const [i, region] of tries.entries()) {
      // Not the last region to try: one attempt's time, so the others get theirs.
      const ms =
        i < tries.length - 1
          ? Math.min(budget ?? this.#s.retry.timeoutMs, this.#s.retry.timeoutMs)
          : budget
      let out: { Item?: RawItem }
      try {
        out = await this.#call(region, 'GetItem', input, ms)
      } catch (error) {
        if (!(error as DynamoSessionError).transient) throw error
        failed = error
        continue
      }
      if (!best || versionOf(out.Item) > versionOf(best.Item)) {
        best = out
        from = region
      }
      if (region === home || (out.Item && versionOf(out.Item) >= p.v)) break
    }
    if (!best) throw failed
    const item = best.Item
    // The copy read is the newest this request knows of: its recorded home is the session's.
    p.home = item?.home?.S ?? p.home ?? (item ? this.#t.regions[0] : undefined)
    p.v = Math.max(p.v, versionOf(item))
    p.from = from
    return best
  }

  /**
   * Reads an item at its home: where the first copy read says it lives (else the first region),
   * so a tool ends a session on the copy that takes its writes. A home that cannot answer fails
   * the call: a revocation is not made on a copy that may be behind.
   */
  async #readAtHome(key: string, input: Record<string, unknown>, budget?: number) {
    const p = await this.#place(key)
    const here = this.#ordered()[0]
    let out: { Item?: RawItem } = await this.#call(here, 'GetItem', input, budget)
    const home = out.Item?.home?.S ?? this.#t.regions[0]
    if (home !== here) out = await this.#call(home, 'GetItem', input, budget)
    Object.assign(p, { home: out.Item?.home?.S ?? home, v: versionOf(out.Item) })
    return out
  }

  /** Writes at the session's home (the nearest healthy region while its breaker is open). */
  async #write(op: string, key: string, input: Record<string, unknown>, budget?: number) {
    const fresh = !this.#places.has(key)
    const p = await this.#place(key)
    // A key this request has not read: a new item goes to the nearest region; a session named
    // by a cookie (a lease's take) to the home the region cookie names, else the first region,
    // where sessions from before globalTable() live.
    const known = p.home ?? (fresh && op !== 'PutItem' ? this.#t.regions[0] : undefined)
    const { breakers } = this.#t
    // Failing over: to the region whose copy was read (the newest a healthy region has: one
    // nearer may not have the session yet), else the nearest healthy one.
    const home =
      known && !breakers.isOpen(known)
        ? known
        : p.from && !breakers.isOpen(p.from)
          ? p.from
          : this.#ordered()[0]
    const out = await this.#call(home, op, withHome(op, input, home), budget)
    const item = (op === 'PutItem' ? input.Item : out.Attributes) as RawItem
    Object.assign(p, { home, v: Math.max(p.v, versionOf(item)) })
    if (!item?.end) await this.#sendCookie(key, p)
    return out
  }
}

/** Equal strings, compared in constant time. */
function same(a: string, b: string): boolean {
  let diff = a.length ^ b.length
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/** Checks `globalTable()`'s options; throws INVALID_OPTIONS naming the option. */
function checkOptions(options: GlobalTableOptions): void {
  const { name, regions, nearest, endpoint } = options ?? ({} as GlobalTableOptions)
  if (typeof name !== 'string' || !/^[\w.-]{3,255}$/.test(name)) {
    invalid('name', `name must be a DynamoDB table name, got ${JSON.stringify(name)}`)
  }
  if (
    !Array.isArray(regions) ||
    !regions.length ||
    new Set(regions).size !== regions.length ||
    !regions.every((r) => typeof r === 'string' && /^[a-z0-9-]+$/.test(r))
  ) {
    invalid(
      'regions',
      `regions must be a list of distinct AWS regions such as 'eu-west-1', got ${JSON.stringify(regions)}`,
    )
  }
  for (const [option, value] of [
    ['nearest', nearest],
    ['endpoint', endpoint],
  ] as const) {
    if (value !== undefined && typeof value !== 'function') {
      invalid(option, `${option} must be a function, got ${typeof value}`)
    }
  }
  for (const [option, min] of [
    ['failures', 1],
    ['cooldownMs', 0],
  ] as const) {
    const value = options?.breaker?.[option]
    if (value !== undefined && !(Number.isInteger(value) && value >= min)) {
      invalid(
        `breaker.${option}`,
        `breaker.${option} must be an integer of at least ${min}, got ${value}`,
      )
    }
  }
}

/**
 * The `table` option for a DynamoDB global table: every session has a home region, where it was
 * created, that takes its writes (so versions, tombstones, leases and write tokens keep their
 * guarantees); reads go to the nearest replica unless it is behind what the browser last wrote
 * (a region cookie, `sid-r`, carries the session's home and that version, signed). When a home
 * region keeps failing (timeouts, 5xx, throttling past the retries), its breaker opens and its
 * sessions' writes move to the healthy replica with the newest copy, their new home; after a
 * cooldown one call probes it, and traffic returns when it answers. See docs/guarantees.md,
 * "Several regions". Pass the same value to `listSessions()` and `revokeSession(s)()`.
 *
 * @param options the table's `name`, its `regions`, and optionally `nearest(c)` (default: the
 *   closest region to `request.cf`'s coordinates on Cloudflare, else the first),
 *   `endpoint(region)` (default: DynamoDB's endpoint in that region) and `breaker`
 *   (`{ failures: 3, cooldownMs: 5000 }`)
 * @example
 * ```ts
 * import { dynamoSession, globalTable } from '@dynamo-session/hono'
 *
 * app.use(dynamoSession({
 *   table: globalTable({ name: 'sessions', regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'] }),
 * }))
 * ```
 */
export function globalTable(options: GlobalTableOptions): GlobalTable {
  checkOptions(options)
  const { name, nearest, endpoint } = options
  const regions = [...options.regions]
  const t: Table = {
    regions,
    endpoint: endpoint ?? regionEndpoint,
    breakers: new Breakers(options.breaker?.failures, options.breaker?.cooldownMs),
    nearest: nearest ?? ((c) => nearestByCoordinates(c, regions)),
  }
  return {
    options,
    name,
    regions,
    conn: { table: name, region: regions[0] },
    endpoint: t.endpoint,
    route: (c, clientOf, s, signer) => new Route(t, c, clientOf, s, signer).send,
    tool: (region, clientOf) => {
      // No request: no region cookie to read or send, and `region` is the nearest.
      const c = { req: { header: () => undefined }, header: () => {} } as unknown as Context
      const s = { retry: DEFAULTS.retry, cookie: DEFAULTS.cookie, absoluteMaxAge: 0 }
      return new Route({ ...t, nearest: () => region }, c, clientOf, s, undefined, true).send
    },
    isOpen: (region) => t.breakers.isOpen(region),
  }
}
