// Faults between the library and DynamoDB, injected by a local proxy (tests/infra/fault-proxy.ts) or by
// stopping a DynamoDB Local of this file's own: each checks the response and what is stored.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { createSessionTable } from '../../src/index.ts'
import { ensureDynamoDBLocal, freePort } from '../infra/dynamodb-local.ts'
import type { FaultProxy } from '../infra/fault-proxy.ts'
import { type Data, type TestApp, testApp } from '../support/app.ts'
import { backend } from '../support/backend.ts'
import { sleep } from '../support/clock.ts'
import { cookieOf } from '../support/cookies.ts'
import { type Conn, credentials, freshTable, rawItem, scanAll } from '../support/dynamodb.ts'
import { spelled } from '../support/fetch.ts'
import { behindFaultProxy } from '../support/proxied.ts'

type Retry = { attempts: number; timeoutMs?: number; budgetMs: number }

/** The save of a changed session (a touch and the lease calls have other shapes). */
const isSave = (op: string, body: Record<string, unknown> | undefined) =>
  op === 'UpdateItem' && spelled(body, 'UpdateExpression').startsWith('SET data.')

/** The stored data of the session a cookie names, read past the proxy; undefined when none. */
async function storedData(table: string, cookie: string): Promise<Data | undefined> {
  const item = await rawItem({ table }, cookie)
  if (!item) return undefined
  const data: Data = {}
  for (const [k, v] of Object.entries(item.data.M as Record<string, Record<string, string>>)) {
    data[k] = v.S ?? Number(v.N)
  }
  return data
}

/** A fresh table, the app behind the fault proxy with these retries; `t.seed` names a session. */
const withProxy = async (
  retry: Retry,
  body: (t: TestApp & { conn: Conn; proxy: FaultProxy; seed: string }) => Promise<void>,
  fetcher?: typeof fetch,
) => {
  const conn = await freshTable('faults')
  await behindFaultProxy(conn, { retry, fetch: fetcher }, ({ a, proxy, cookie }) =>
    body({ ...a, conn, proxy, seed: cookie }),
  )
}

const THROTTLING = [
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]

describe('faults', () => {
  for (const type of THROTTLING) {
    test(`throttling (400 ${type}) twice, then passed: the request succeeds`, () =>
      withProxy({ attempts: 4, budgetMs: 10000 }, async (t) => {
        t.proxy.inject({ kind: 'throttle', type }, { times: 2 })
        const res = await t.post('/set/a/v', t.seed)
        assert.equal(res.status, 200)
        assert.deepEqual(
          t.proxy.calls.slice(0, 3).map((c) => `${c.op} ${c.outcome}`),
          ['GetItem throttle', 'GetItem throttle', 'GetItem forwarded'],
        )
        assert.deepEqual(await storedData(t.conn.table, t.seed), { user: 'ada', a: 'v' })
      }))
  }

  test('throttling that never ends: 503 with Retry-After, within the retry budget, no partial write', () =>
    withProxy({ attempts: 3, budgetMs: 5000 }, async (t) => {
      t.proxy.inject({ kind: 'throttle', type: 'ThrottlingException' }, { match: isSave })
      const res = await t.post('/set/a/v', t.seed)
      assert.equal(res.status, 503)
      assert.equal(res.headers.get('retry-after'), '1')
      assert.equal(t.ops().filter((op) => op === 'UpdateItem').length, 3, 'three attempts')
      assert.deepEqual(await storedData(t.conn.table, t.seed), { user: 'ada' })
      assert.equal(t.errors.at(-1)?.code, 'THROTTLED')
      // A new session whose first write is throttled: no cookie, no item.
      t.proxy.inject({ kind: 'throttle', type: 'ProvisionedThroughputExceededException' })
      const fresh = await t.post('/set/b/v')
      assert.equal(fresh.status, 503)
      assert.equal(fresh.headers.getSetCookie().length, 0)
      assert.equal((await scanAll(t.conn.table)).length, 1)
    }))

  test('the retry budget ends the retries before the attempts run out', () =>
    withProxy({ attempts: 50, budgetMs: 500 }, async (t) => {
      t.proxy.inject({ kind: 'throttle', type: 'ThrottlingException' })
      const res = await t.post('/set/a/v', t.seed)
      assert.equal(res.status, 503)
      const tries = t.calls.length
      assert.ok(tries >= 2 && tries < 50, `${tries} attempts within a 500 ms budget`)
    }))

  // A hang is ended by the per-attempt timeout; the other faults answer at once.
  const transient = [
    { name: '500s', fault: { kind: 'status', status: 500 } as const, code: 'UNAVAILABLE' },
    { name: 'a connection reset mid-response', fault: { kind: 'reset' } as const, code: 'NETWORK' },
    { name: 'a reply that never comes', fault: { kind: 'hang' } as const, code: 'TIMEOUT' },
  ]
  for (const { name, fault, code } of transient) {
    const retry = { attempts: 3, timeoutMs: fault.kind === 'hang' ? 1000 : 3000, budgetMs: 5000 }
    test(`${name} on the save: retried, then 503, and the session is unchanged`, () =>
      withProxy(retry, async (t) => {
        t.proxy.inject(fault, { match: isSave })
        const res = await t.post('/set/a/v', t.seed)
        assert.equal(res.status, 503)
        assert.equal(res.headers.get('retry-after'), '1')
        assert.equal(res.headers.get('x-handler'), null)
        assert.deepEqual(
          t.proxy.calls.filter((c) => c.op === 'UpdateItem').map((c) => c.outcome),
          [fault.kind, fault.kind, fault.kind],
          'every attempt of the save met the fault',
        )
        assert.equal(t.errors.at(-1)?.code, code)
        assert.deepEqual(await storedData(t.conn.table, t.seed), { user: 'ada' })
      }))

    test(`${name} once: retried, and the request succeeds`, () =>
      withProxy(retry, async (t) => {
        t.proxy.inject(fault, { match: isSave, times: 1 })
        const res = await t.post('/set/a/v', t.seed)
        assert.equal(res.status, 200)
        const saves = t.proxy.calls.filter((c) => c.op === 'UpdateItem').map((c) => c.outcome)
        assert.equal(saves[0], fault.kind)
        assert.equal(saves.at(-1), 'forwarded')
        assert.deepEqual(await storedData(t.conn.table, t.seed), { user: 'ada', a: 'v' })
      }))
  }

  test("a new session's first write applied but its reply lost: the retry succeeds, 200", () =>
    withProxy({ attempts: 3, budgetMs: 5000 }, async (t) => {
      t.proxy.inject({ kind: 'lose-reply' }, { times: 1, match: (op) => op === 'PutItem' })
      const res = await t.post('/set/b/v')
      assert.equal(res.status, 200)
      assert.deepEqual(
        t.proxy.calls.map((c) => `${c.op} ${c.outcome}`),
        ['PutItem lose-reply', 'PutItem forwarded'],
      )
      const cookie = cookieOf(res)
      assert.deepEqual(await storedData(t.conn.table, cookie), { b: 'v' })
      assert.equal((await scanAll(t.conn.table)).length, 2, 'no orphan item')
    }))

  test('connection refused: retried, then 503; refused once: retried, and the request succeeds', async () => {
    let reopen: (() => Promise<void>) | undefined
    // On a refused attempt, optionally listen again before the retry.
    const fetcher: typeof fetch = async (input, init) => {
      try {
        return await fetch(input, init)
      } catch (error) {
        if (reopen) await reopen()
        throw error
      }
    }
    const retry = { attempts: 3, budgetMs: 3000 }
    await withProxy(
      retry,
      async (t) => {
        await t.proxy.refuse()
        const res = await t.post('/set/a/v', t.seed)
        assert.equal(res.status, 503)
        assert.equal(res.headers.get('retry-after'), '1')
        assert.deepEqual(t.ops(), ['GetItem', 'GetItem', 'GetItem'])
        assert.equal(t.errors.at(-1)?.code, 'NETWORK')
        assert.deepEqual(await storedData(t.conn.table, t.seed), { user: 'ada' })
        t.reset()
        reopen = async () => {
          reopen = undefined
          await t.proxy.accept()
        }
        const again = await t.post('/set/a/v', t.seed)
        assert.equal(again.status, 200)
        assert.deepEqual(t.ops(), ['GetItem', 'GetItem', 'UpdateItem'])
        assert.deepEqual(await storedData(t.conn.table, t.seed), { user: 'ada', a: 'v' })
      },
      fetcher,
    )
  })

  test('a save that fails after the handler ran: its 2xx becomes 503 and nothing changes', () =>
    withProxy({ attempts: 2, budgetMs: 2000 }, async (t) => {
      t.proxy.inject({ kind: 'status', status: 500 }, { match: (op) => op !== 'GetItem' })
      // A change to a stored session.
      const changed = await t.post('/set/a/v', t.seed)
      assert.equal(changed.status, 503)
      assert.equal(changed.headers.get('x-handler'), null, 'none of the handler response survives')
      assert.doesNotMatch(await changed.text(), /handler ok/)
      // A new session.
      const fresh = await t.post('/set/b/v')
      assert.equal(fresh.status, 503)
      assert.equal(fresh.headers.getSetCookie().length, 0, 'no cookie for an unsaved session')
      // regenerate(): the new item cannot be written, the old one stays.
      const regenerated = await t.post('/regenerate', t.seed)
      assert.equal(regenerated.status, 503)
      assert.equal(regenerated.headers.getSetCookie().length, 0)
      // destroy(): the delete fails, so the cookie is not cleared and the session lives on.
      const destroyed = await t.post('/logout', t.seed)
      assert.equal(destroyed.status, 503)
      assert.equal(destroyed.headers.getSetCookie().length, 0)
      assert.deepEqual(
        t.errors.map((e) => e.code),
        ['UNAVAILABLE', 'UNAVAILABLE', 'UNAVAILABLE', 'UNAVAILABLE'],
      )
      assert.deepEqual(await storedData(t.conn.table, t.seed), { user: 'ada' })
      assert.equal((await scanAll(t.conn.table)).length, 1)
    }))

  // This one stops and restarts a DynamoDB Local process of its own, whatever the backend; on the
  // in-memory backend it would test nothing of it (and need Java), so it is skipped there.
  const outage =
    'DynamoDB Local stopped under load and started again: 503 while down, nothing stored is lost'
  test(backend === 'memory'
    ? `${outage} (skipped on the in-memory backend: it restarts a DynamoDB Local process of its own)`
    : outage, { timeout: 90_000, skip: backend === 'memory' }, async () => {
    // A DynamoDB Local of this test's own, on disk (not in memory), so a restart keeps the data
    // and "nothing stored is lost" can be checked across the outage.
    const dir = await ensureDynamoDBLocal()
    const dbPath = await mkdtemp(join(tmpdir(), 'dynamo-session-outage-'))
    const port = await freePort()
    const endpoint = `http://127.0.0.1:${port}`
    let java: ChildProcess | undefined
    const start = async () => {
      java = spawn(
        'java',
        [
          `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
          '-jar',
          join(dir, 'DynamoDBLocal.jar'),
          '-sharedDb',
          '-dbPath',
          dbPath,
          '-disableTelemetry',
          '-port',
          String(port),
        ],
        { cwd: dir, stdio: 'ignore' },
      )
      for (let i = 0; i < 300; i++) {
        try {
          const res = await fetch(endpoint, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-amz-json-1.0',
              'x-amz-target': 'DynamoDB_20120810.ListTables',
              authorization:
                'AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
            },
            body: '{}',
          })
          await res.text()
          if (res.ok) return
        } catch {
          // not up yet
        }
        await sleep(100)
      }
      throw new Error(`the outage test's DynamoDB Local did not start on port ${port}`)
    }
    const stop = async () => {
      const child = java
      java = undefined
      if (!child || child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
    try {
      await start()
      const conn = { table: 'outage', region: 'us-east-1', credentials }
      await createSessionTable({ ...conn, endpoint })
      // Refused connections fail at once, so the outage gives 503s quickly; the long timeout
      // keeps a slow answer from a freshly started JVM from being retried and counted twice.
      const a = testApp(
        { ...conn, endpoint },
        { retry: { attempts: 3, timeoutMs: 5000, budgetMs: 8000 } },
      )
      const cookie = cookieOf(await a.post('/set/seed/v'))

      type Outcome = { kind: 'set' | 'increment'; key: string; status: number; phase: string }
      const outcomes: Outcome[] = []
      let phase = 'before'
      let running = true
      let n = 0
      const worker = async () => {
        while (running) {
          const i = n++
          const kind = i % 2 ? 'increment' : 'set'
          const key = `k${i}`
          const res = await a.post(kind === 'set' ? `/set/${key}/v` : '/increment/n', cookie)
          await res.text()
          if (res.status === 503) assert.equal(res.headers.get('retry-after'), '1')
          outcomes.push({ kind, key, status: res.status, phase })
          await sleep(5)
        }
      }
      const count = (p: string, status: number) =>
        outcomes.filter((o) => o.phase === p && o.status === status).length
      const until = async (done: () => boolean) => {
        for (let i = 0; i < 600 && !done(); i++) await sleep(50)
        assert.ok(done(), `the load did not reach its next phase (${phase})`)
      }
      const workers = Array.from({ length: 4 }, worker)
      try {
        await until(() => count('before', 200) >= 20)
        await stop()
        phase = 'down'
        await until(() => count('down', 503) >= 8)
        await start()
        phase = 'after'
        await until(() => count('after', 200) >= 20)
      } finally {
        running = false
        await Promise.all(workers)
      }

      assert.deepEqual(
        [...new Set(outcomes.map((o) => o.status))].sort(),
        [200, 503],
        'every request got 200 or 503',
      )
      const data = await a.whoami(cookie)
      assert.ok(data, 'the session outlived the outage')
      assert.equal(data.seed, 'v')
      const ok = outcomes.filter((o) => o.status === 200)
      for (const o of ok) if (o.kind === 'set') assert.equal(data[o.key], 'v', `${o.key} was lost`)
      const increments = ok.filter((o) => o.kind === 'increment').length
      // A 2xx always means stored. A 503 does not always mean "not stored": DynamoDB may have
      // applied a write whose reply was lost when it stopped.
      assert.ok(
        (data.n as number) >= increments,
        `n = ${data.n}, but ${increments} increments were answered 200`,
      )
    } finally {
      await stop()
      await rm(dbPath, { recursive: true, force: true })
    }
  })
})
