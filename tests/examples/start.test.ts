// `npm start` (examples/start.ts): starts its own DynamoDB Local (or dynalite without Java),
// creates the table, serves the Node demo, and leaves nothing running after Ctrl-C.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { isAlive, startDemoProcess } from '../infra/demo-process.ts'
import { cartOf, DemoClient, userOf } from '../support/demo-client.ts'

const START = ['--import', 'tsx', 'examples/start.ts']

/** Signs in and fills the cart: this needs the table, so it proves the store is set up. */
async function useDemo(url: string) {
  const client = new DemoClient(url)
  const home = await client.get('/')
  assert.equal(home.status, 200)
  assert.match(home.body, /action="\/login"/)
  await client.post('/login', { username: 'starter', password: 'password123' })
  const page = await client.post('/cart/add', { item: 'Banana' })
  assert.equal(userOf(page.body), 'starter')
  assert.deepEqual(cartOf(page.body), ['Banana'])
}

describe('npm start', () => {
  test('serves the demo with DynamoDB Local, and Ctrl-C stops both', async () => {
    const demo = await startDemoProcess(process.execPath, START, {
      SESSION_TABLE: undefined,
      SESSION_SECRET: undefined,
      AWS_ENDPOINT_URL_DYNAMODB: undefined,
    })
    try {
      const javaPid = Number(/DynamoDB Local \(pid (\d+)\)/.exec(demo.output())?.[1])
      assert.ok(javaPid > 0, `start.ts names the DynamoDB Local it started:\n${demo.output()}`)
      assert.match(demo.output(), /Table "sessions" ready/)
      assert.match(demo.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      await useDemo(demo.url)
      assert.equal(await demo.stop('SIGINT'), 0)
      assert.equal(isAlive(javaPid), false, 'DynamoDB Local is stopped with the demo')
    } finally {
      await demo.stop('SIGKILL')
    }
  })

  test('falls back to dynalite, in one line, where there is no Java', async () => {
    // A PATH with nothing on it: `java` cannot be found, node itself is called by its full path.
    const empty = await mkdtemp(join(tmpdir(), 'no-java-'))
    const demo = await startDemoProcess(process.execPath, START, {
      PATH: empty,
      JAVA_HOME: undefined,
      SESSION_TABLE: 'shop',
    })
    try {
      const lines = demo.output().split('\n')
      assert.deepEqual(
        lines.filter((line) => /java|dynalite|DynamoDB Local/i.test(line)),
        ['No Java found: using dynalite (in-process, from npm) instead of DynamoDB Local'],
      )
      assert.match(demo.output(), /Table "shop" ready/)
      await useDemo(demo.url)
      assert.equal(await demo.stop('SIGTERM'), 0)
    } finally {
      await demo.stop('SIGKILL')
      await rm(empty, { recursive: true, force: true })
    }
  })
})
