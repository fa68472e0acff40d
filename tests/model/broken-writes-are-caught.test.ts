// The model can fail: against a DynamoDB that ignores every write's condition, and against one
// that ignores only the write tokens in it (so a retried or late write applies twice), the seeds
// `npm test` runs find a history that breaks a rule (tests/model/mutations.ts).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { backends } from './backends.ts'
import { checkModel } from './check.ts'
import type { Mutation } from './mutations.ts'
import { RUNS, SEED } from './runs.ts'

const WHAT: Record<Exclude<Mutation, 'none'>, string> = {
  conditions: 'ignores every ConditionExpression',
  tokens: 'ignores the write tokens in conditions',
}

for (const backend of backends()) {
  for (const [mutation, what] of Object.entries(WHAT)) {
    test(`a DynamoDB that ${what} breaks a rule within the fixed seeds (${backend.name})`, async (t) => {
      // The fixed runs: locking off, then on, as histories-keep-the-guarantees.test.ts runs them.
      let runs = 0
      for (const locking of [false, true]) {
        const result = await checkModel({
          backend,
          locking,
          mutation: mutation as Mutation,
          runs: RUNS[backend.name],
          seed: SEED,
          shrink: false,
        })
        runs += result.runs
        if (!result.failed) continue
        const rules = [...new Set(result.violations.map((v) => v.rule))]
        t.diagnostic(`caught after ${runs} histories: ${rules.join('; ')}`)
        return
      }
      assert.fail(`no violation in ${runs} histories`)
    })
  }
}
