// Random histories keep every rule of docs/guarantees.md: several browsers (tabs, stale cookies)
// against several app instances on one table, with lost replies, late duplicates, throttling,
// timeouts and slow lease takes, interleaved by fast-check's scheduler, each answer and the table
// left at the end judged by the reference model (tests/model/rules/). On memoryDynamoDB() and
// DynamoDB Local, with locking off and on, for a fixed set of seeds; `npm run model` runs more.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { backends } from './backends.ts'
import { checkModel } from './check.ts'
import { RUNS, SEED } from './runs.ts'

for (const backend of backends()) {
  for (const locking of [false, true]) {
    test(`${RUNS[backend.name]} random histories on ${backend.name}, locking ${locking ? 'on' : 'off'}, keep every rule`, async () => {
      const result = await checkModel({
        backend,
        locking,
        mutation: 'none',
        runs: RUNS[backend.name],
        seed: SEED,
        shrink: true,
      })
      assert.ok(!result.failed, result.report)
    })
  }
}
