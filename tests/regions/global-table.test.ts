// globalTable() on the multi-region harness: three DynamoDB Locals and the stream replicator
// (tests/regions/harness.ts). The same promises as tests/suite/global-table.test.ts makes on the
// testing kit, on real DynamoDB Local: page views read the nearest replica, changes go home, a
// browser reads its own writes with 1 s of lag, a logout is never undone through another region,
// and a home region stopped mid-traffic is left for the nearest healthy one, with no 2xx change
// lost when it returns.
import assert from 'node:assert/strict'
import { after, describe, test as nodeTest } from 'node:test'
import { globalTable } from '../../src/index.ts'
import { sleep } from '../support/clock.ts'
import { browserOf, regionApp } from '../support/region-browser.ts'
import { type Regions, startRegions } from './harness.ts'

const [US, EU, AP] = ['us-east-1', 'eu-west-1', 'ap-southeast-2']
const SECRET = 'a-secret-for-tests-only-0123456789abcdef'
const CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'x' }
let g: Regions
let started: Promise<Regions> | undefined

/** A test on the shared regions, started by the first test (see harness.test.ts for why). */
function test(name: string, body: () => Promise<void>): void {
  nodeTest(name, { timeout: 120_000 }, async () => {
    started ??= startRegions([US, EU, AP])
    g = await started
    g.setLag(0)
    await g.settle()
    await body()
  })
}

let tables = 0

/** A fresh global table and an app on it whose nearest region is the `x-near` header. */
async function world(breaker?: { failures?: number; cooldownMs?: number }) {
  const name = `global-${tables++}-${Math.random().toString(36).slice(2, 8)}`
  await g.createTable({
    TableName: name,
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  })
  const table = globalTable({
    name,
    regions: g.regions,
    nearest: (c) => c.req.header('x-near') ?? US,
    endpoint: (region) => g.endpoint(region),
    breaker,
  })
  const { app, errors } = regionApp({
    table,
    credentials: CREDENTIALS,
    secret: SECRET,
    retry: { attempts: 2, timeoutMs: 1000, budgetMs: 3000 },
  })
  const browser = browserOf(app)
  /** Calls per region since the last call. */
  const counted = () => {
    const out = Object.fromEntries(g.regions.map((r) => [r, g.calls(r)]))
    g.resetCalls()
    return out
  }
  return { table, browser, counted, errors }
}

describe('globalTable() on three DynamoDB Locals', () => {
  after(async () => {
    await (await started)?.stop()
  })

  test('page views are served by the nearest replica, changes by the home region', async () => {
    const { browser, counted } = await world()
    const b = browser()
    await b.send('POST', '/note/hello', US)
    await g.settle()
    counted()
    assert.deepEqual(await b.get(EU), { note: 'hello' })
    assert.deepEqual(await b.get(AP), { note: 'hello' })
    assert.deepEqual(counted(), { [US]: {}, [EU]: { GetItem: 1 }, [AP]: { GetItem: 1 } })
    assert.equal((await b.send('POST', '/inc', EU)).status, 200)
    assert.deepEqual(counted(), { [US]: { UpdateItem: 1 }, [EU]: { GetItem: 1 }, [AP]: {} })
  })

  test('a browser reads its own writes with 1 s of replication lag', async () => {
    const { browser, counted } = await world()
    const b = browser()
    await b.send('POST', '/note/first', US)
    await g.settle()
    g.setLag(1000)
    await b.send('POST', '/note/second', EU)
    counted()
    assert.deepEqual(await b.get(EU), { note: 'second' })
    assert.deepEqual(counted(), { [US]: { GetItem: 1 }, [EU]: { GetItem: 1 }, [AP]: {} })
    await g.settle()
    assert.deepEqual(await b.get(EU), { note: 'second' })
    assert.deepEqual(counted(), { [US]: {}, [EU]: { GetItem: 1 }, [AP]: {} })
  })

  test('a logout in one region is never undone through another', async () => {
    const { browser } = await world()
    const a = browser()
    await a.send('POST', '/note/mine', US)
    await g.settle()
    const tab = browser(a.header)
    g.pause()
    assert.equal((await a.send('POST', '/logout', EU)).status, 200)
    assert.equal((await tab.send('POST', '/note/back', EU)).status, 409)
    assert.equal((await tab.send('POST', '/inc', AP)).status, 409)
    g.resume()
    await g.settle()
    assert.deepEqual(await tab.get(EU), {})
    assert.deepEqual(await tab.get(AP), {})
    assert.deepEqual(await tab.get(US), {})
  })

  test('home region stopped mid-traffic: users stay signed in, changes move after the breaker opens, none lost', async () => {
    const { browser, table } = await world({ failures: 3, cooldownMs: 500 })
    const b = browser()
    let acknowledged = 0
    const inc = async (near: string) => {
      const status = (await b.send('POST', '/inc', near)).status
      if (status === 200) acknowledged++
      return status
    }
    await b.send('POST', '/note/signed-in', US)
    for (let i = 0; i < 3; i++) await inc(EU)
    await g.settle()
    await g.down(US)
    assert.deepEqual(await b.get(EU), { note: 'signed-in', n: 3 })
    const during: number[] = []
    for (let i = 0; i < 6; i++) during.push(await inc(EU))
    const unavailable = during.filter((s) => s === 503).length
    assert.ok(unavailable <= 3, `503 only until the breaker opens: ${during}`)
    assert.deepEqual(during.slice(unavailable), Array(6 - unavailable).fill(200), String(during))
    assert.match(b.region, /~eu-west-1~\d+\./)

    await g.up(US)
    await sleep(600)
    assert.equal((await browser().send('POST', '/note/probe', US)).status, 200)
    assert.equal(table.isOpen(US), false)
    await g.settle()
    for (const near of [US, EU, AP]) {
      assert.deepEqual(await b.get(near), { note: 'signed-in', n: acknowledged }, near)
    }
  })
})
