// npm run model: the model test for as long as you like, on one backend.
//
//   npm run model -- --runs 5000                       memory, locking off and on, a random seed
//   npm run model -- --backend local --runs 1000       DynamoDB Local (TEST_DYNAMODB_ENDPOINT, or one started here)
//   npm run model -- --seed 42 --path 17:3 --locking on --backend memory     replay a failure
//   npm run model -- --mutation tokens                 against a DynamoDB that ignores write tokens
//   npm run model -- --no-shrink                       report the first failing history as it is
//
// A failure prints its seed, path and the shrunk history as a readable replay, and exits 1.
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    seed: { type: 'string' },
    path: { type: 'string' },
    backend: { type: 'string', default: 'memory' },
    locking: { type: 'string', default: 'both' },
    mutation: { type: 'string', default: 'none' },
    'no-shrink': { type: 'boolean', default: false },
  },
})

const fail = (message: string): never => {
  console.error(`npm run model: ${message}`)
  process.exit(2)
}
if (!['memory', 'local'].includes(values.backend)) fail('--backend is memory or local')
if (!['on', 'off', 'both'].includes(values.locking)) fail('--locking is on, off or both')
if (!['none', 'conditions', 'tokens'].includes(values.mutation)) {
  fail('--mutation is none, conditions or tokens')
}
// With --path, fast-check counts runs from that case: the replay is that one history.
const runs = Number(values.runs ?? (values.path ? 1 : 1000))
if (!Number.isInteger(runs) || runs < 1) fail('--runs is a positive integer')
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed)
if (!Number.isInteger(seed)) fail('--seed is an integer')

// tests/support/backend.ts picks its DynamoDB when first imported.
if (values.backend === 'memory') process.env.TEST_DYNAMODB = 'memory'
const { localBackend, memoryBackend } = await import('./backends.ts')
const { checkModel } = await import('./check.ts')
const { testEndpoint } = await import('../support/backend.ts')
const backend = values.backend === 'memory' ? memoryBackend() : localBackend(testEndpoint())

let failed = false
for (const locking of values.locking === 'both' ? [false, true] : [values.locking === 'on']) {
  const started = Date.now()
  const what = values.path ? `the history at path ${values.path}` : `${runs} histories`
  console.log(`${backend.name}, locking ${locking ? 'on' : 'off'}, seed ${seed}: ${what}`)
  const result = await checkModel({
    backend,
    locking,
    mutation: values.mutation as 'none',
    runs,
    seed,
    path: values.path,
    shrink: !values['no-shrink'],
    progress: (n) => {
      if (n % 100 === 0)
        process.stdout.write(`  ${n} histories, ${((Date.now() - started) / 1000).toFixed(0)} s\n`)
    },
  })
  console.log(result.report)
  console.log(`  ${result.runs} histories in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  failed ||= result.failed
}
process.exit(failed ? 1 : 0)
