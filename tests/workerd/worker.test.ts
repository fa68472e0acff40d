// The middleware in workerd (the Cloudflare Workers runtime, through Miniflare), against DynamoDB
// Local: every setting comes from the Worker's bindings. A recording proxy between the Worker and
// DynamoDB Local shows which calls were made, to which table, signed with which credentials.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, test } from 'node:test'
import { bundleWorker, type RunningWorker, startWorker } from '../infra/workerd.ts'
import { testEndpoint } from '../support/backend.ts'
import { ddb, freshTable, SECRET, scanAll } from '../support/dynamodb.ts'

/** The Node built-ins a bundle imports (`from "node:x"` or `import("node:x")`), sorted. */
const nodeImports = (bundle: string) =>
  [
    ...new Set([...bundle.matchAll(/(?:from|import\()\s*["'](node:[\w/]+)["']/g)].map((m) => m[1])),
  ].sort()

interface Recorded {
  op: string
  table: string | undefined
  authorization: string
  token: string | null
}

/** An HTTP proxy to DynamoDB Local that records each call. */
async function recordingProxy(): Promise<{ url: string; calls: Recorded[]; server: Server }> {
  const calls: Recorded[] = []
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString()
    const headers = new Headers()
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && name !== 'host' && name !== 'connection')
        headers.set(name, value)
    }
    calls.push({
      op: (headers.get('x-amz-target') ?? '').split('.').pop() ?? '',
      table: body ? JSON.parse(body).TableName : undefined,
      authorization: headers.get('authorization') ?? '',
      token: headers.get('x-amz-security-token'),
    })
    const upstream = await fetch(testEndpoint(), { method: 'POST', headers, body })
    res.writeHead(upstream.status, { 'content-type': 'application/x-amz-json-1.0' })
    res.end(await upstream.text())
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, calls, server }
}

type View = { isNew: boolean; data: Record<string, string>; expiresAt: string | null }

describe('workerd', () => {
  let worker: RunningWorker
  let proxy: Awaited<ReturnType<typeof recordingProxy>>
  let table: string

  /** The Worker's bindings: the table, a region, DynamoDB through the recording proxy, and `more`. */
  const bindings = (more: Record<string, string>) => ({
    SESSION_TABLE: table,
    AWS_REGION: 'eu-west-3',
    AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
    ...more,
  })

  before(async () => {
    proxy = await recordingProxy()
    table = (await freshTable('workerd')).table
    worker = await startWorker({
      entry: 'tests/workerd/worker.ts',
      // What it logs is shown after each test, unless the test expected it (below).
      quiet: true,
      bindings: bindings({
        AWS_ACCESS_KEY_ID: 'AKIDFROMBINDINGS',
        AWS_SECRET_ACCESS_KEY: 'secret-from-bindings',
        AWS_SESSION_TOKEN: 'token-from-bindings',
        SESSION_SECRET: SECRET,
      }),
    })
  })
  after(async () => {
    await worker?.stop()
    proxy?.server.close()
  })
  // The Worker's log up to here was expected and asserted by a test; the rest is shown as it is.
  let expected = 0
  afterEach(() => {
    const unexpected = worker.output().slice(expected)
    expected += unexpected.length
    if (unexpected) process.stderr.write(unexpected)
  })

  const call = async (path: string, cookie?: string, body?: unknown) => {
    const res = await worker.dispatch(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    assert.equal(res.status, 200, await res.clone().text())
    const setCookie = res.headers.getSetCookie()
    return { view: (await res.json()) as View, setCookie, cookie: setCookie[0]?.split(';')[0] }
  }
  const ops = (from: number) => proxy.calls.slice(from).map((c) => c.op)

  test('a new session is stored in the bound table, signed with the bound credentials', async () => {
    const mark = proxy.calls.length
    const first = await call('/set', undefined, { colour: 'teal' })
    assert.equal(first.view.isNew, true)
    assert.ok(first.cookie, 'a new session sets a cookie')
    assert.match(first.setCookie[0], /Max-Age=86400/)
    assert.deepEqual(ops(mark), ['PutItem'])
    const put = proxy.calls[mark]
    assert.equal(put.table, table)
    assert.match(put.authorization, /Credential=AKIDFROMBINDINGS\/\d{8}\/eu-west-3\/dynamodb\//)
    assert.equal(put.token, 'token-from-bindings')
    const items = await scanAll(table)
    assert.equal(items.length, 1)
    assert.deepEqual(items[0].data.M.colour, { S: 'teal' })
  })

  test('a stored session is read back, and changed key by key', async () => {
    const { cookie } = await call('/set', undefined, { a: '1', b: '2' })
    const read = await call('/read', cookie)
    assert.deepEqual(read.view, { ...read.view, isNew: false, data: { a: '1', b: '2' } })
    const mark = proxy.calls.length
    await call('/set', cookie, { a: null, c: '3' })
    assert.deepEqual(ops(mark), ['GetItem', 'UpdateItem'])
    assert.deepEqual((await call('/read', cookie)).view.data, { b: '2', c: '3' })
  })

  test('an expired session is not loaded, and a read-only request leaves its cookie alone', async () => {
    const tableBefore = new Set((await scanAll(table)).map((item) => item.id.S))
    const { cookie } = await call('/set', undefined, { soon: 'gone' })
    const [item] = (await scanAll(table)).filter((i) => !tableBefore.has(i.id.S))
    // TTL deletion may lag by days: an item past its expiry must be ignored on read.
    await ddb('UpdateItem', {
      TableName: table,
      Key: { id: item.id },
      UpdateExpression: 'SET expires = :past',
      ExpressionAttributeValues: { ':past': { N: String(Math.floor(Date.now() / 1000) - 5) } },
    })
    const read = await call('/read', cookie)
    assert.equal(read.view.isNew, true)
    assert.deepEqual(read.view.data, {})
    // Only destroy ever clears the cookie; nothing was written, so nothing is set.
    assert.deepEqual(read.setCookie, [])
  })

  test('destroy leaves a tombstone for an hour and clears the cookie; the ended session refuses changes', async () => {
    const tableBefore = new Set((await scanAll(table)).map((item) => item.id.S))
    const { cookie } = await call('/set', undefined, { user: 'ada' })
    const [created] = (await scanAll(table)).filter((i) => !tableBefore.has(i.id.S))
    const mark = proxy.calls.length
    const destroyed = await call('/destroy', cookie, {})
    assert.deepEqual(ops(mark), ['GetItem', 'PutItem'])
    assert.match(destroyed.setCookie[0] ?? '', /^sid=;.*Max-Age=0/)
    const [tombstone] = (await scanAll(table)).filter((i) => i.id.S === created.id.S)
    assert.ok(tombstone, 'the item is replaced, not deleted')
    assert.equal(tombstone.data, undefined)
    assert.deepEqual(tombstone.end, { S: '1' })
    const ttl = Number(tombstone.expires.N) - Math.floor(Date.now() / 1000)
    assert.ok(ttl > 3500 && ttl <= 3600, `the tombstone expires in ${ttl} s`)
    const read = await call('/read', cookie)
    assert.equal(read.view.isNew, true)
    assert.deepEqual(read.view.data, {})
    assert.deepEqual(read.setCookie, [])
    // A request still holding the ended session's cookie cannot write under it.
    const writes = proxy.calls.length
    const refused = await worker.dispatch('/set', {
      method: 'POST',
      headers: { cookie: cookie!, 'content-type': 'application/json' },
      body: '{"user":"mallory"}',
    })
    assert.equal(refused.status, 409)
    assert.equal(await refused.text(), 'Conflict')
    assert.deepEqual(refused.headers.getSetCookie(), [])
    assert.deepEqual(
      ops(writes).filter((op) => op !== 'GetItem'),
      [],
    )
    // The refusal is logged, in one line (the Worker gives no onError option).
    const logged = await worker.waitForOutput(/SESSION_GONE/, expected)
    assert.match(logged, /^DynamoSessionError SESSION_GONE: [^\n]*\n$/)
    expected += logged.length
  })

  test('regenerate moves the data to a new id and leaves a tombstone over the old one', async () => {
    const { cookie } = await call('/set', undefined, { user: 'grace' })
    const before = await scanAll(table)
    const live = before.filter((item) => item.data).length
    const mark = proxy.calls.length
    const fresh = await call('/regenerate', cookie, {})
    assert.ok(fresh.cookie && fresh.cookie !== cookie)
    assert.deepEqual(ops(mark), ['GetItem', 'PutItem', 'PutItem'])
    const items = await scanAll(table)
    assert.equal(items.length, before.length + 1, 'the new session, and a tombstone for the old')
    assert.equal(items.filter((item) => item.data).length, live, 'as many live sessions as before')
    assert.deepEqual((await call('/read', fresh.cookie)).view.data, { user: 'grace' })
    assert.equal((await call('/read', cookie)).view.isNew, true)
  })

  test('the cookie is signed with the bound secret; a forged one never reaches DynamoDB', async () => {
    const { cookie } = await call('/set', undefined, { role: 'user' })
    const [id, signature] = cookie!.slice('sid='.length).split('.')
    assert.ok(id && signature, 'the cookie is <id>.<signature>')
    const mark = proxy.calls.length
    for (const forged of [
      `sid=${id}`,
      `sid=${id}.${signature.slice(1)}A`,
      `sid=${id}x.${signature}`,
    ]) {
      const read = await call('/read', forged)
      assert.equal(read.view.isNew, true, forged)
    }
    assert.deepEqual(ops(mark), [])
    assert.deepEqual((await call('/read', cookie)).view.data, { role: 'user' })
  })

  test('without credential bindings the Worker answers a generic 500 and logs which are missing, whatever the host env has', async () => {
    const saved = { ...process.env }
    // The host process's variables must not leak into the Worker.
    process.env.AWS_ACCESS_KEY_ID = 'AKIDHOST'
    process.env.AWS_SECRET_ACCESS_KEY = 'host-secret'
    const bare = await startWorker({
      entry: 'tests/workerd/worker.ts',
      // Its one log line is expected, and read below.
      quiet: true,
      // Empty values count as unset, as with environment variables.
      bindings: bindings({ AWS_ACCESS_KEY_ID: '', SESSION_SECRET: SECRET }),
    })
    try {
      const mark = proxy.calls.length
      const res = await bare.dispatch('/set', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"x":"1"}',
      })
      assert.equal(res.status, 500)
      assert.equal(await res.text(), 'Internal Server Error')
      assert.deepEqual(ops(mark), [])
      assert.match(
        await bare.waitForOutput(/No AWS credentials/),
        /No AWS credentials.*AWS_ACCESS_KEY_ID/,
      )
    } finally {
      process.env = saved
      await bare.stop()
    }
  })
})

describe("a Worker's app.onError", () => {
  let worker: RunningWorker
  before(async () => {
    worker = await startWorker({
      entry: 'tests/workerd/onerror-worker.ts',
      // The middleware logs each failure (the Worker gives no onError option): read below.
      quiet: true,
      bindings: {
        SESSION_TABLE: (await freshTable('workerd-onerror')).table,
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_DYNAMODB: testEndpoint(),
        AWS_ACCESS_KEY_ID: 'AKIDFROMBINDINGS',
        AWS_SECRET_ACCESS_KEY: 'secret-from-bindings',
        SESSION_SECRET: SECRET,
      },
    })
  })
  after(async () => {
    await worker?.stop()
  })
  const post = (path: string, cookie?: string) =>
    worker.dispatch(path, { method: 'POST', headers: cookie ? { cookie } : {} })

  test('receives store failures as DynamoSessionErrors with their status: 503, 500 and 409', async () => {
    const down = await post('/down/set')
    assert.equal(down.status, 503)
    assert.equal(down.headers.get('retry-after'), '1')
    assert.match(down.headers.get('x-code') ?? '', /^(NETWORK|TIMEOUT)$/)
    assert.equal(await down.text(), 'Service Unavailable')

    const missing = await post('/missing/set')
    assert.equal(missing.status, 500)
    assert.equal(missing.headers.get('x-code'), 'TABLE_NOT_FOUND')
    assert.equal(await missing.text(), 'Internal Server Error')

    const first = await post('/ok/set')
    assert.equal(first.status, 200)
    const cookie = first.headers.getSetCookie()[0].split(';')[0]
    assert.equal((await post('/ok/destroy', cookie)).status, 200)
    const late = await post('/ok/set', cookie)
    assert.equal(late.status, 409)
    assert.equal(late.headers.get('x-code'), 'SESSION_GONE')
    assert.deepEqual(late.headers.getSetCookie(), [], 'a refused change never touches the cookie')

    // Each failure was logged by the middleware in one line, and nothing else.
    const logged = await worker.waitForOutput(/SESSION_GONE/)
    const lines = logged.trimEnd().split('\n')
    assert.equal(lines.length, 3, logged)
    assert.match(
      lines[0],
      /^DynamoSessionError (NETWORK|TIMEOUT): DynamoDB PutItem .*http:\/\/127\.0\.0\.1:9\b/,
    )
    assert.match(lines[1], /^DynamoSessionError \w+: .*no-such-table-here/)
    assert.match(lines[2], /^DynamoSessionError SESSION_GONE: /)
  })
})

describe('a Worker using only the middleware', () => {
  test('imports no Node built-in, so it runs without nodejs_compat (as the suite above does)', async () => {
    const bundle = await bundleWorker('tests/workerd/worker.ts')
    assert.match(bundle, /DynamoDB_20120810/)
    assert.deepEqual(nodeImports(bundle), [])
    assert.doesNotMatch(bundle, /["']node:[a-z]/)
  })

  test('the Node built-in check sees what a nodejs_compat bundle imports', async () => {
    const bundle = await bundleWorker('examples/cloudflare/worker.ts', ['nodejs_compat'])
    assert.deepEqual(nodeImports(bundle), ['node:async_hooks'])
  })
})

describe('examples/cloudflare', () => {
  test("wrangler deploy --dry-run bundles the demo Worker; its only Node built-in is the panel's node:async_hooks", async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'wrangler-'))
    try {
      const { stdout } = await new Promise<{ stdout: string }>((done, fail) =>
        execFile(
          'node_modules/.bin/wrangler',
          [
            'deploy',
            '--dry-run',
            '--outdir',
            outdir,
            '--config',
            'examples/cloudflare/wrangler.jsonc',
          ],
          {
            env: {
              ...process.env,
              CI: 'true',
              WRANGLER_SEND_METRICS: 'false',
              WRANGLER_SEND_ERROR_REPORTS: 'false',
              WRANGLER_HIDE_BANNER: 'true',
            },
            timeout: 60_000,
          },
          (error, stdout, stderr) =>
            error ? fail(new Error(`${error.message}\n${stdout}\n${stderr}`)) : done({ stdout }),
        ).stdin?.end(),
      )
      assert.match(stdout, /--dry-run: exiting now/)
      assert.match(stdout, /env\.SESSION_TABLE/)
      const bundle = await readFile(join(outdir, 'worker.js'), 'utf8')
      assert.match(bundle, /DynamoDB_20120810/)
      // hono/context-storage (the demo's "Behind the scenes" panel) needs AsyncLocalStorage,
      // hence nodejs_compat in wrangler.jsonc; the library itself needs none.
      assert.deepEqual(nodeImports(bundle), ['node:async_hooks'])
    } finally {
      await rm(outdir, { recursive: true, force: true })
    }
  })
})
