// docs/benchmarks.md, assembled by `npm run bench` from the tables each benchmark printed in its
// last run (bench/results/<name>.md). Only the text around the tables is written here.

/** The report's sections, in order: the names of the files in bench/results. */
export const SECTIONS = [
  'size',
  'cpu',
  'cpu-bun',
  'cost',
  'roundtrips',
  'throughput',
  'profile',
  'users',
  'regions',
  'targets',
] as const

const INTRO = `# Benchmarks

Every figure on this page is written by \`npm run bench\` (about 15 minutes on 2 cores; it starts its
own DynamoDB Local), which prints the same tables, keeps the raw results in \`bench/results/*.json\`
and redraws \`bench/chart.svg\`. \`npm run bench -- --only cpu,cost\` reruns some benchmarks and keeps
the other sections from their last run. Each benchmark runs several measured rounds after a
warm-up, interleaves the candidates, and prints the median with the (min–max) range. CPU and
throughput figures move by 20–40 % between runs on a shared machine; sizes, calls and units do
not.

The candidates:

- **ours**: \`dynamoSession()\`, DynamoDB's JSON API over \`fetch\`, signed by \`aws4fetch\`.
- **SDK baseline**: the same middleware over a client built on \`@aws-sdk/client-dynamodb\`
  (\`bench/sdk-client.ts\`): the same session rules, only the DynamoDB client differs.
- **express-session + connect-dynamodb**: Express's sessions on DynamoDB (\`resave: false\`,
  \`saveUninitialized: false\`).
- **architect/functions (aws-lite)**: \`@architect/functions\`' \`http.session\` on DynamoDB, over
  \`@aws-lite/client\` (SigV4 by \`aws4\`, \`node:http\`), from Hono routes. It has no regenerate or
  destroy: login writes the user under the same id, logout writes the session back without the
  user's keys.
- **hono-sessions** (memory store) and **@hono/session** (the whole session in an encrypted cookie,
  JWE by \`jose\`): stores that make no network call, the floor for CPU per request.

![CPU per request and bundle size against the baselines](https://github.com/dynamo-session/hono/blob/main/bench/chart.svg?raw=true)
`

/** Text placed before a section's tables. */
const BEFORE: Partial<Record<(typeof SECTIONS)[number], string>> = {
  size: `A minimal Worker (\`app.use(dynamoSession())\` and one route, \`bench/workers/\`), bundled as
wrangler does; the same entries bundled for Node; and the cold start of each Worker bundle. The
test suite holds the first figure at \`HELD_BYTES\` (\`tests/bench/size-ceiling.test.ts\`); the
ceiling is 12.5 KB (12,800 bytes), which this release misses.`,
  cpu: `CPU per request: \`app.request()\` in a loop, DynamoDB replaced by an in-process fake that
answers at once (a \`fetch\` for ours and the SDK baseline; for Architect, \`node:http\`'s \`request\`
answered in process), so the time is the middleware's own: cookie crypto, signing, (un)marshalling,
Hono. CPU is counted over all threads (Web Crypto runs on libuv's pool in Node); the overhead is
the CPU time minus the same app without middleware.`,
  cost: `DynamoDB calls and capacity units for one scripted workload, each store behind a proxy that
asks DynamoDB to report capacity (\`ReturnConsumedCapacity: TOTAL\`) and counts every call.`,
  roundtrips: `Calls per kind of request, and the latency they add when DynamoDB is far away: a proxy
holds every call 20 ms (an edge location to a region). Read the added median as the latency a user
of that store sees on top of the app's own, per request of that kind.`,
  throughput: `Requests per second through a real HTTP server, and the raw limit: the same DynamoDB
calls straight from a client loop. The load generator, the server and DynamoDB Local share the
machine's cores; the raw client has no load generator beside it. So the raw limit is measured a
second time beside a process that burns as much CPU as the load generator did, and the CPU each
process used is shown, per second and per request.

How to read it: the load generator takes little (a tenth of a core or less), so taking its share
away moves the ratio by a few points only. What remains is the server's own work per request (the
HTTP server, Hono, the middleware's cookie and session handling) on top of the DynamoDB call the
raw client also makes; the server and the raw client each run their JavaScript on one thread, so
when that thread is the limit the server reaches about "raw client ÷ server" (µs per request) of
the raw limit. A read-only request makes one cheap DynamoDB call, so HTTP serving weighs most
there; a changing request makes two, and the ratio rises.`,
  profile: `Where the read path's main-thread time goes: \`node --cpu-prof\` and \`bun --cpu-prof\` over
read-only requests (\`bench/profile-read.ts\`: \`app.request()\`, fake DynamoDB, start-up included).
How to read it:

- Every DynamoDB call is signed by \`aws4fetch\` with four Web Crypto calls: SHA-256 of the body,
  SHA-256 of the canonical request, \`importKey\` of the derived key and one HMAC. The cookie's
  HMAC check and the stored key's SHA-256 are remembered per cookie, so a read signs once.
- On Node, Web Crypto hashes on libuv's thread pool: the main thread shows idle while it waits,
  and the JavaScript side of each call (argument checks and algorithm normalization in
  \`node:internal/crypto\`, promise and job set-up) is one of the largest items on the main thread.
  The AWS SDK and Architect's \`aws4\` hash with \`node:crypto\`'s synchronous
  \`createHash\`/\`createHmac\` instead: Architect's lower CPU per request in the CPU tables comes
  from that and from making no \`Request\`/\`Response\` objects (its fake stands in for
  \`node:http\`'s \`request\`); the SDK's higher one from its middleware stack.
- On Bun, \`digest\`, \`sign\` and \`importKey\` run on the main thread and are listed as native
  frames; Bun's \`Request\`/\`Headers\` come next.
- "library" rows are this package's own code; "fetch classes" are the \`Request\`/\`Response\`/
  \`Headers\` objects Hono and the client create.`,
  users: `What per-user sessions cost (\`bench/users.ts\`): a sign-in, a change, a page view and a
sign-out of an anonymous session against one bound to a user by \`regenerate({ userId })\`, and
the user tools for users with 1, 10 and 50 sessions. How to read it:

- Binding a user adds the user index's entry: a write unit when the session is bound, and one
  whenever an attribute the index projects changes: the expiry, which most writes move (a change,
  a due touch). A bound session's changes so cost two write units where an anonymous one's cost
  one; its page views cost the same single read. A sign-out of a bound session removes the entry
  (one more unit); a sign-in again keeps the old session's tombstone in the index (one unit) and
  adds the new session's (one unit).
- \`listSessions()\` is one Query of the index: half a read unit per 4 KB of entries (about 200
  bytes each), so 50 sessions cost a few units.
- A revocation reads each session consistently (a read unit for a session up to 4 KB) and writes
  its tombstone (a unit, and one for the index entry it removes), and queries the index twice.`,
  regions: `What \`globalTable()\` saves a browser far from its session's home (\`bench/regions.ts\`), and
what replication costs. How to read it:

- A page view is one read in the nearest region: about 10 ms, where a single-region table costs
  the full 150 ms. Only the page view that follows the browser's own change, while the replica
  has not caught up (within the replication lag, usually under a second), reads the home too.
- A change reads near and writes at the home (one long round trip instead of two). A sign-in
  writes the new session near and ends the old one at its home; a sign-out writes the tombstone
  at the home.
- Write units: a global table bills every write again, as replicated write units, in each other
  region: with 3 regions, 3 times the write units of a single-region table. Reads are not
  replicated (a page view costs half a read unit, or one with \`consistentRead\`, in the region
  read). See [Deploying](deploy.md#several-regions-a-global-table).`,
  targets: `Each target with the figure it was judged on (from the last run of its benchmark).`,
}

/** The whole page from the sections' last tables; a section never run says how to get it. */
export function report(sections: Record<string, string | undefined>): string {
  const parts = [INTRO.trim()]
  for (const name of SECTIONS) {
    const body = sections[name]
    const before = BEFORE[name]
    if (!body) {
      parts.push(
        `## ${name}\n\nNot measured yet: \`npm run bench -- --only ${name === 'cpu-bun' ? 'cpu' : name}\`.`,
      )
      continue
    }
    // The section's own heading comes first; the explanation goes right under it.
    const lines = body.trim().split('\n')
    const heading = lines[0].startsWith('## ') ? lines.shift() : undefined
    parts.push([heading, before, lines.join('\n').trim()].filter(Boolean).join('\n\n'))
  }
  return `${parts.join('\n\n')}\n`
}
