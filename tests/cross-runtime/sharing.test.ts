// Stateless app servers sharing one session store: the demo app runs under Bun, Deno, Node and
// workerd at once, all on one DynamoDB table, and one visitor (one cookie jar, as one browser
// keeps for a host whatever the port) walks from runtime to runtime. Each step sees what the
// previous one stored.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type DemoProcess, startDemoProcess } from '../infra/demo-process.ts'
import { type RunningWorker, startWorker } from '../infra/workerd.ts'
import { testEndpoint } from '../support/backend.ts'
import { cartOf, DemoClient, noticeOf, userOf } from '../support/demo-client.ts'
import { credentials, freshTable, SECRET, scanAll } from '../support/dynamodb.ts'

/** The table's live sessions: items with data (an ended session's tombstone has none). */
async function liveSessions(table: string) {
  return (await scanAll(table)).filter((item) => item.data)
}

describe('one session across Bun, Deno, Node and workerd', () => {
  let table: string
  const servers: Record<'bun' | 'deno' | 'node', DemoProcess | undefined> = {
    bun: undefined,
    deno: undefined,
    node: undefined,
  }
  let worker: RunningWorker | undefined

  before(async () => {
    table = (await freshTable('shared')).table
    const settings = {
      SESSION_TABLE: table,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: testEndpoint(),
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      SESSION_SECRET: SECRET,
      HOST: '127.0.0.1',
    }
    const started = await Promise.allSettled([
      startDemoProcess('node_modules/.bin/bun', ['examples/bun.ts'], settings),
      startDemoProcess('node_modules/.bin/deno', ['run', '-A', 'examples/deno.ts'], settings),
      startDemoProcess(process.execPath, ['--import', 'tsx', 'examples/node.ts'], settings),
      // As examples/cloudflare/wrangler.jsonc: the demo's panel uses hono/context-storage.
      startWorker({
        entry: 'examples/cloudflare/worker.ts',
        bindings: settings,
        compatibilityFlags: ['nodejs_compat'],
      }),
    ])
    const [bun, deno, node, workerd] = started
    if (bun.status === 'fulfilled') servers.bun = bun.value
    if (deno.status === 'fulfilled') servers.deno = deno.value
    if (node.status === 'fulfilled') servers.node = node.value
    if (workerd.status === 'fulfilled') worker = workerd.value
    const failed = started.filter((s) => s.status === 'rejected')
    if (failed.length) throw (failed[0] as PromiseRejectedResult).reason
  })

  after(async () => {
    await Promise.all([...Object.values(servers).map((server) => server?.stop()), worker?.stop()])
  })

  test('each runtime sees and extends what the previous one stored', async () => {
    const urls = {
      bun: servers.bun!.url,
      deno: servers.deno!.url,
      node: servers.node!.url,
      workerd: new URL(worker!.url).origin,
    }
    const visitor = new DemoClient(urls.bun)

    // Bun: sign in and put the first item in the cart.
    let page = await visitor.post('/login', { username: 'roaming', password: 'password123' })
    assert.equal(noticeOf(page.body), 'Signed in')
    page = await visitor.post('/cart/add', { item: 'Apple' })
    assert.deepEqual(cartOf(page.body), ['Apple'])
    const sid = visitor.jar.get('sid')

    // Deno reads it and adds an item.
    visitor.base = urls.deno
    page = await visitor.get('/')
    assert.equal(userOf(page.body), 'roaming')
    assert.deepEqual(cartOf(page.body), ['Apple'])
    page = await visitor.post('/cart/add', { item: 'Banana' })
    assert.equal(noticeOf(page.body), 'Item added')
    assert.deepEqual(cartOf(page.body), ['Apple', 'Banana'])

    // Node reads that, removes one item and adds another.
    visitor.base = urls.node
    page = await visitor.get('/')
    assert.deepEqual(cartOf(page.body), ['Apple', 'Banana'])
    await visitor.post('/cart/remove', { index: '0' })
    page = await visitor.post('/cart/add', { item: 'Cherry' })
    assert.deepEqual(cartOf(page.body), ['Banana', 'Cherry'])

    // workerd reads that and adds one more; Bun sees the result.
    visitor.base = urls.workerd
    page = await visitor.get('/')
    assert.equal(userOf(page.body), 'roaming')
    assert.deepEqual(cartOf(page.body), ['Banana', 'Cherry'])
    await visitor.post('/cart/add', { item: 'Dragon fruit' })

    visitor.base = urls.bun
    page = await visitor.get('/')
    assert.deepEqual(cartOf(page.body), ['Banana', 'Cherry', 'Dragon fruit'])

    // One session all along: same cookie, one live session (an item with data) in the table.
    assert.equal(visitor.jar.get('sid'), sid)
    assert.equal((await liveSessions(table)).length, 1)

    // Signing out under Deno ends the session for every runtime: what stays is a tombstone
    // (no data) that expires within the hour.
    visitor.base = urls.deno
    await visitor.post('/logout', {})
    assert.deepEqual(await liveSessions(table), [])
    const stale = new DemoClient(urls.node)
    stale.jar.set('sid', sid!)
    page = await stale.get('/')
    assert.equal(userOf(page.body), undefined)
    assert.match(page.body, /action="\/login"/)
  })
})
