// Load, correctness only (speed is measured by bench/load.ts): 5,000 requests at concurrency
// 50 from another process, half reads, half increments of one session. Node only: run with
//   node --import tsx --test tests/node/load.test.ts
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ok, runLoad } from '../infra/load.ts'
import { freshTable, SECRET } from '../support/dynamodb.ts'

test('5,000 requests at concurrency 50: no non-2xx, and every 2xx increment counted', {
  timeout: 300_000,
}, async () => {
  const conn = await freshTable('load')
  const result = await runLoad({ ...conn, secret: SECRET }, { amount: 5000, connections: 50 })
  const increments = ok(result.tally.increment)
  const reads = ok(result.tally.read)
  assert.equal(result.errors, 0)
  assert.equal(result.timeouts, 0)
  assert.equal(result.non2xx, 0)
  assert.equal(increments + reads, 5000)
  assert.ok(increments >= 2000 && reads >= 2000, `${increments} increments, ${reads} reads`)
  assert.equal(result.finalCount, increments)
})
