// A failing seed is worth something only if it replays: the same history and scheduler, run
// twice, give the same run, call for call and answer for answer, on each backend (the clock,
// the randomness and the order of every DynamoDB call are the run's own: tests/model/world.ts).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { backends } from './backends.ts'
import { SIZE } from './check.ts'
import { histories } from './history.ts'
import { runHistory } from './runner.ts'
import { SEED } from './runs.ts'

for (const backend of backends()) {
  test(`a seed replays exactly on ${backend.name}`, async () => {
    const cases = fc.sample(fc.tuple(histories(SIZE), fc.scheduler()), { seed: SEED, numRuns: 5 })
    for (const [history, scheduler] of cases) {
      const traces: string[][] = []
      for (const s of [
        scheduler,
        (scheduler as unknown as Record<symbol, () => fc.Scheduler>)[fc.cloneMethod](),
      ]) {
        const conn = await backend.table()
        try {
          const run = await runHistory(history, s, {
            backend,
            conn,
            locking: true,
            mutation: 'none',
          })
          traces.push(run.trace)
        } finally {
          await backend.drop(conn)
        }
      }
      assert.deepEqual(traces[1], traces[0])
    }
  })
}
