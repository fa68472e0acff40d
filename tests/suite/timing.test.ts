// hono/timing: with timing() in the app, the load and save phases show in Server-Timing (and so in
// the browser's devtools); without it, nothing is recorded.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { timing } from 'hono/timing'
import { testApp } from '../support/app.ts'
import { cookieOf } from '../support/cookies.ts'
import { freshTable } from '../support/dynamodb.ts'

const METRIC = /^session-(load|save);dur=\d+(\.\d)?$/

async function app(withTiming: boolean) {
  const conn = await freshTable('timing')
  return testApp(conn, { use: withTiming ? [timing()] : [] })
}

describe('Server-Timing', () => {
  test('with timing(), session-load and session-save are recorded on every request', async () => {
    const a = await app(true)
    const first = await a.post('/increment/n')
    const second = await a.post('/increment/n', cookieOf(first))
    for (const res of [first, second]) {
      const metrics = (res.headers.get('server-timing') ?? '').split(',')
      const ours = metrics.filter((m) => m.startsWith('session-'))
      assert.deepEqual(
        ours.map((m) => m.split(';')[0]),
        ['session-load', 'session-save'],
      )
      for (const m of ours) assert.match(m, METRIC)
      assert.ok(
        metrics.some((m) => m.startsWith('total;')),
        "timing()'s own total is still there",
      )
    }
  })

  test('without timing(), no Server-Timing header and no warning', async () => {
    const a = await app(false)
    const warned: unknown[] = []
    const warn = console.warn
    console.warn = (...args: unknown[]) => warned.push(args)
    try {
      const res = await a.post('/increment/n')
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('server-timing'), null)
      assert.deepEqual(warned, [])
    } finally {
      console.warn = warn
    }
  })
})
