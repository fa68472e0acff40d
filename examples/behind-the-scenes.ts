/**
 * @module The demo's "Behind the scenes" panel: every HTML page ends with the DynamoDB calls its
 * request made (operation, consumed capacity as DynamoDB reported it, duration), the session's
 * item as DynamoDB holds it, and its expiry drawn against the idle and absolute limits.
 *
 * The calls are recorded by a wrapper around the session middleware's `fetch` option; each call
 * is attributed to the request that made it through `hono/context-storage` (AsyncLocalStorage:
 * Node, Bun and Deno have it; Cloudflare Workers with the `nodejs_compat` flag). The panel is
 * added after the session middleware has saved, so it shows the save's calls too. A redirect
 * (the answer to every form post) has no page to show them on: its calls ride to the next page
 * in a short-lived cookie, `demo-last`.
 */
import { AwsClient } from 'aws4fetch'
import type { Context, MiddlewareHandler } from 'hono'
import { env } from 'hono/adapter'
import { tryGetContext } from 'hono/context-storage'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { html, raw } from 'hono/html'
import type { Credentials, DynamoSessionOptions } from '../src/index.ts'

/** One DynamoDB call as the panel shows it. */
export interface DynamoCall {
  /** The operation, e.g. `GetItem`. */
  op: string
  /** Capacity units DynamoDB reported (`ConsumedCapacity.CapacityUnits`); undefined if none. */
  units: number | undefined
  /** From sending the request to the end of the answer's headers, in milliseconds. */
  ms: number
  /** DynamoDB's error type (`ConditionalCheckFailedException`...), when the call failed. */
  error?: string
}

/** The variables the panel keeps on the request's context. */
export type PanelEnv = { Variables: { dynamoCalls: DynamoCall[] } }

/** What the panel needs to know of the session middleware's options. */
export type PanelOptions = Pick<
  DynamoSessionOptions,
  'table' | 'region' | 'endpoint' | 'credentials' | 'maxAge' | 'absoluteMaxAge'
>

const DEFAULT_MAX_AGE = 86_400
const DEFAULT_ABSOLUTE_MAX_AGE = 604_800
const LAST = 'demo-last'

/**
 * Wraps the `fetch` the session middleware uses: each DynamoDB call is timed, its answer's
 * `ConsumedCapacity` read from a copy of the body, and the result added to the calls of the
 * request that is being served. Calls made outside a request (table set-up) are not recorded.
 */
export function recordingFetch(
  inner: typeof fetch = ((input, init) => fetch(input, init)) as typeof fetch,
) {
  // Cast: Bun's fetch type carries extras (preconnect) a plain function does not.
  const recorded = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const calls = tryGetContext<PanelEnv>()?.var.dynamoCalls
    if (!calls) return inner(input, init)
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : {}))
    const op = headers.get('x-amz-target')?.split('.').pop() ?? 'unknown'
    const started = performance.now()
    const call: DynamoCall = { op, units: undefined, ms: 0 }
    calls.push(call)
    try {
      const response = await inner(input, init)
      call.ms = performance.now() - started
      const answer = (await response
        .clone()
        .json()
        .catch(() => undefined)) as
        | { ConsumedCapacity?: { CapacityUnits?: number }; __type?: string }
        | undefined
      call.units = answer?.ConsumedCapacity?.CapacityUnits
      if (!response.ok) call.error = answer?.__type?.split('#').pop() ?? `HTTP ${response.status}`
      return response
    } catch (error) {
      call.ms = performance.now() - started
      call.error = error instanceof Error ? error.name : 'failed'
      throw error
    }
  }) as typeof fetch
  return recorded
}

/** The stored key of a cookie id: SHA-256, base64url, as the library stores it. */
async function hashedKey(id: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(id))
  let text = ''
  for (const byte of new Uint8Array(digest)) text += String.fromCharCode(byte)
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

type Item = Record<string, Record<string, unknown>>

/**
 * Reads the session's item with its own signed GetItem (not one of the request's calls): the
 * same table, region, endpoint and credentials as the session middleware, from its options or
 * the environment.
 */
async function readItem(c: Context, options: PanelOptions, key: string): Promise<Item | undefined> {
  const vars = env(c) as Record<string, string | undefined>
  const region = options.region ?? (vars.AWS_REGION || vars.AWS_DEFAULT_REGION)
  if (!region) return undefined
  const endpoint =
    options.endpoint ??
    (vars.AWS_ENDPOINT_URL_DYNAMODB ||
      vars.AWS_ENDPOINT_URL ||
      `https://dynamodb.${region}.amazonaws.com`)
  const given = options.credentials
  const credentials: Credentials | undefined =
    typeof given === 'function'
      ? await given(c)
      : (given ??
        (vars.AWS_ACCESS_KEY_ID && vars.AWS_SECRET_ACCESS_KEY
          ? {
              accessKeyId: vars.AWS_ACCESS_KEY_ID,
              secretAccessKey: vars.AWS_SECRET_ACCESS_KEY,
              sessionToken: vars.AWS_SESSION_TOKEN || undefined,
            }
          : undefined))
  if (!credentials) return undefined
  const client = new AwsClient({ ...credentials, service: 'dynamodb', region, retries: 0 })
  const response = await client.fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.GetItem',
    },
    body: JSON.stringify({
      TableName: options.table ?? (vars.SESSION_TABLE || 'sessions'),
      Key: { id: { S: key } },
      ConsistentRead: true,
    }),
  })
  if (!response.ok) return undefined
  return ((await response.json()) as { Item?: Item }).Item
}

const fmtUnits = (units: number | undefined) => (units === undefined ? '–' : String(units))
const fmtMs = (ms: number) => `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`
const epoch = (attribute: Record<string, unknown> | undefined) =>
  typeof attribute?.N === 'string' ? Number(attribute.N) : undefined
const clock = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')

function span(seconds: number): string {
  if (Math.abs(seconds) < 120) return `${Math.round(seconds)} s`
  const minutes = Math.round(seconds / 60)
  if (Math.abs(minutes) < 60) return `${minutes} min`
  const hours = Math.round(seconds / 3600)
  return Math.abs(hours) < 48 ? `${hours} h` : `${Math.round(seconds / 86_400)} days`
}

const entryCount = (n: number) => (n === 1 ? '1 entry' : `${n} entries`)

function callsTable(calls: readonly DynamoCall[]) {
  if (!calls.length) return html`<p class="none">No DynamoDB call.</p>`
  return html`<table class="calls">
<thead><tr><th>#</th><th>operation</th><th>capacity units</th><th>duration</th></tr></thead>
<tbody>${calls.map(
    (call, i) =>
      html`<tr><td>${i + 1}</td><td class="op">${call.op}${
        call.error ? html` <span class="error">${call.error}</span>` : ''
      }</td><td class="units">${fmtUnits(call.units)}</td><td class="ms">${fmtMs(call.ms)}</td></tr>`,
  )}</tbody>
</table>`
}

/** The item's attributes, one row each, with the whole item as DynamoDB JSON below. */
function itemView(item: Item) {
  const described: Record<string, string> = {
    id: 'hash key: SHA-256 of the cookie’s id',
    data: 'the session data',
    flash: 'values for the next request only',
    expires: 'the TTL attribute',
    created: 'for the absolute limit',
    v: 'version, bumped by every write',
    w: 'recent writes, for exactly-once retries',
    wf: 'the floor under which a write is known never applied',
    end: 'ended: a tombstone left by sign-out, sign-in or revocation',
    to: 'where a sign-in moved the session',
    uid: 'the user signed in: the key of the user index',
    device: 'the browser, as kept at sign-in (for the devices page)',
    h: 'the handle: this session’s name on the devices page',
    lease: 'a lease (locking)',
    leaseOwner: 'the request holding the lease',
  }
  const order = Object.keys(described)
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length)
  const entries = Object.entries(item).sort(([a], [b]) => rank(a) - rank(b))
  const rows = entries.map(([name, attribute]) => {
    const [type, value] = Object.entries(attribute)[0] ?? ['?', '']
    const seconds = name === 'expires' || name === 'created' ? epoch(attribute) : undefined
    const shown =
      type === 'M'
        ? entryCount(Object.keys(value as object).length)
        : seconds === undefined
          ? String(value)
          : `${value} (${clock(seconds)})`
    return html`<tr data-attribute="${name}"><th>${name}</th><td>${type}</td><td class="value">${shown}</td><td class="what">${described[name] ?? ''}</td></tr>`
  })
  return html`<table class="item"><tbody>${rows}</tbody></table>
<details open><summary>The item as DynamoDB JSON</summary><pre class="json">${JSON.stringify(item, null, 2)}</pre></details>`
}

/** The expiry against the idle and absolute limits, as an inline SVG. */
function timeline(item: Item, maxAge: number, absoluteMaxAge: number) {
  const created = epoch(item.created)
  const expires = epoch(item.expires)
  if (created === undefined || expires === undefined) return ''
  const now = Math.floor(Date.now() / 1000)
  const limit = created + absoluteMaxAge
  const x = (t: number) =>
    (((Math.min(Math.max(t, created), limit) - created) / absoluteMaxAge) * 100).toFixed(2)
  return html`<figure class="timeline">
<svg viewBox="0 0 100 14" preserveAspectRatio="none" role="img" aria-label="The session's expiry on its lifetime">
  <rect x="0" y="4" width="100" height="6" fill="#e9ecf2"/>
  <rect x="0" y="4" width="${x(expires)}" height="6" fill="#8fb3e8"/>
  <line x1="${x(now)}" x2="${x(now)}" y1="1" y2="13" stroke="#222" stroke-width="0.6"/>
  <line x1="${x(expires)}" x2="${x(expires)}" y1="1" y2="13" stroke="#1f5fbf" stroke-width="0.6"/>
  <line x1="100" x2="100" y1="0" y2="14" stroke="#b33" stroke-width="1.2"/>
</svg>
<figcaption>
<span class="created"><i style="background:#222"></i>created ${clock(created)}; now is ${span(now - created)} later</span>
<span class="expires"><i style="background:#8fb3e8"></i>expires in ${span(expires - now)} unless used again (idle limit: ${span(maxAge)} after each use)</span>
<span class="limit"><i style="background:#b33"></i>absolute limit in ${span(limit - now)} (${span(absoluteMaxAge)} after it was created, whatever the activity)</span>
</figcaption>
</figure>`
}

interface Previous {
  request: string
  status: number
  calls: DynamoCall[]
}

function readPrevious(c: Context): Previous | undefined {
  const text = getCookie(c, LAST)
  if (!text) return undefined
  try {
    const parsed = JSON.parse(decodeURIComponent(atob(text))) as Previous
    return Array.isArray(parsed.calls) ? parsed : undefined
  } catch {
    return undefined
  }
}

const STYLE = raw(`<style>
  #behind-the-scenes { margin-top: 2.5rem; border-top: 3px solid #1f5fbf; padding-top: .5rem; font-size: 14px }
  #behind-the-scenes h2 { font-size: 1.1rem; margin: .25rem 0 }
  #behind-the-scenes h3 { font-size: .95rem; margin: 1rem 0 .25rem; color: #444 }
  #behind-the-scenes table { border-collapse: collapse; width: 100% }
  #behind-the-scenes table.calls { width: auto; min-width: 70% }
  #behind-the-scenes th, #behind-the-scenes td { text-align: left; padding: .15rem .4rem; border-bottom: 1px solid #eee; vertical-align: top }
  #behind-the-scenes td.units, #behind-the-scenes td.ms { text-align: right; font-variant-numeric: tabular-nums }
  #behind-the-scenes .item td.value { font-family: ui-monospace, monospace; word-break: break-all }
  #behind-the-scenes .item td.what { color: #666 }
  #behind-the-scenes .error { color: #b33 }
  #behind-the-scenes pre { background: #f6f7f9; padding: .5rem; overflow-x: auto; font-size: 12px; max-height: 16rem }
  #behind-the-scenes svg { width: 100%; height: 1.5rem; display: block }
  #behind-the-scenes figure { margin: .5rem 0 }
  #behind-the-scenes figcaption { color: #444 }
  #behind-the-scenes figcaption span { display: block }
  #behind-the-scenes figcaption i { display: inline-block; width: .8em; height: .8em; margin-right: .4em; vertical-align: -.05em }
  #behind-the-scenes .none { color: #666 }
</style>`)

/**
 * The panel as a middleware, registered after `contextStorage()` and before `dynamoSession()`:
 * it starts the request's list of calls, lets the session middleware load and save, then adds
 * the panel to an HTML page (or keeps the calls for the next page when the answer is a
 * redirect).
 */
export function behindTheScenes(
  options: PanelOptions = {},
): MiddlewareHandler<{ Variables: PanelEnv['Variables'] & { session?: { readonly id: string } } }> {
  const maxAge = options.maxAge ?? DEFAULT_MAX_AGE
  const absoluteMaxAge = options.absoluteMaxAge ?? DEFAULT_ABSOLUTE_MAX_AGE
  return async function behindTheScenes(c, next) {
    const calls: DynamoCall[] = []
    c.set('dynamoCalls', calls)
    await next()
    const request = `${c.req.method} ${new URL(c.req.url).pathname}`
    if (c.res.status >= 300 && c.res.status < 400) {
      const carried: Previous = { request, status: c.res.status, calls }
      setCookie(c, LAST, btoa(encodeURIComponent(JSON.stringify(carried))), {
        path: '/',
        httpOnly: true,
        sameSite: 'Lax',
        maxAge: 60,
      })
      return
    }
    if (!c.res.headers.get('content-type')?.startsWith('text/html')) return
    const previous = readPrevious(c)
    if (previous) deleteCookie(c, LAST, { path: '/' })

    const session = c.var.session
    const key = session ? await hashedKey(session.id) : undefined
    // Nothing was read or written: there is no item to look up (and no call to pay for).
    const item =
      key && calls.length ? await readItem(c, options, key).catch(() => undefined) : undefined
    const panel = html`${STYLE}<aside id="behind-the-scenes" aria-labelledby="bts-title">
<h2 id="bts-title">Behind the scenes</h2>
<h3>DynamoDB calls of this request (${request})</h3>
<div class="this-request">${callsTable(calls)}</div>
${
  previous
    ? html`<h3>… and of the request before it (${previous.request}, answered ${previous.status})</h3>
<div class="previous-request">${callsTable(previous.calls)}</div>`
    : ''
}
<h3>The session’s item, as DynamoDB holds it now</h3>
<div class="stored">${
      item
        ? html`${timeline(item, maxAge, absoluteMaxAge)}${itemView(item)}`
        : html`<p class="none">No item is stored for this browser’s session${
            key ? html` (its key would be <code>${key}</code>)` : ''
          }.</p>`
    }</div>
<p class="none"><small>Capacity units are the ones DynamoDB reports (<code>ReturnConsumedCapacity: TOTAL</code>)${
      item ? '; the item was read for this panel with one more GetItem, not counted above' : ''
    }.</small></p>
</aside>`
    const page = await c.res.text()
    const headers = new Headers(c.res.headers)
    headers.delete('content-length')
    const status = c.res.status
    c.res = undefined
    c.res = new Response(page.replace('</body>', `${await panel}</body>`), { status, headers })
  }
}
