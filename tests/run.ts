// What `npm test` runs: one DynamoDB Local for everything, then each step in its own process,
// with a summary per step and a last line `N passed, N failed`. Needs Node and Java, nothing
// else (Chromium comes from npm when the machine has none); without Java it stops at once,
// unless the steps chosen need no DynamoDB Local (memory, kit-*, typecheck, lint).
//
//   npm test                         every step
//   npm test -- --only bun,deno      some steps (names below)
//   npm test -- --list               the step names
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { startDynamoDBLocal } from './infra/dynamodb-local.ts'

const bin = (name: string) => join('node_modules', '.bin', name)
const files = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f))
const nodeTest = (dir: string) => [
  process.execPath,
  '--import',
  'tsx',
  '--test',
  '--test-reporter=tap',
  ...files(dir),
]

interface Counts {
  passed: number
  failed: number
  /** Tests the runner reported as skipped (or ignored): shown so none goes unnoticed. */
  skipped?: number
}

/** A check that passes or fails as a whole: one count. */
const byExitCode = (): Counts => ({ passed: 0, failed: 0 })

/** The number in the last line matching `pattern`: a runner's summary comes last. */
const last = (out: string, pattern: RegExp) => Number([...out.matchAll(pattern)].at(-1)?.[1] ?? 0)

const tap = (out: string): Counts => ({
  passed: last(out, /^# pass (\d+)$/gm),
  failed: last(out, /^# fail (\d+)$/gm) + last(out, /^# cancelled (\d+)$/gm),
  skipped: last(out, /^# skip(?:ped)? (\d+)$/gm),
})

const bun = (out: string): Counts => ({
  passed: last(out, /^\s*(\d+) pass$/gm),
  failed: last(out, /^\s*(\d+) fail$/gm),
  skipped: last(out, /^\s*(\d+) skip$/gm),
})

// "ok | 12 passed (118 steps) | 0 failed": describe blocks are tests, their tests are steps.
const deno = (out: string): Counts => {
  const plain = out.replace(/\u001b\[[0-9;]*m/g, '')
  const m = /(\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/.exec(plain)
  const ignored = Number(/\| (\d+) ignored/.exec(plain)?.[1] ?? 0)
  return m
    ? { passed: Number(m[2] ?? m[1]), failed: Number(m[4] ?? m[3]), skipped: ignored }
    : { passed: 0, failed: 0 }
}

interface Step {
  name: string
  what: string
  command: string[]
  parse: (output: string) => Counts
  /** Environment changes for this step; `undefined` removes a variable. */
  env?: Record<string, string | undefined>
  /** Working directory, when not the repository root. */
  cwd?: string
  /** Whether the step talks to DynamoDB Local (TEST_DYNAMODB_ENDPOINT). @default true */
  local?: boolean
  /** Whether it needs Java without the runner's DynamoDB Local (it starts one itself). */
  java?: boolean
}

/** Steps that must not see DynamoDB Local nor AWS settings: they prove they need neither. */
const WITHOUT_DYNAMODB = {
  TEST_DYNAMODB_ENDPOINT: undefined,
  AWS_REGION: undefined,
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
}

const STEPS: Step[] = [
  {
    name: 'typecheck',
    what: 'tsc, with isolated declarations on src/; Bun files with bun-types',
    command: ['npm', 'run', '--silent', 'typecheck'],
    parse: byExitCode,
    local: false,
  },
  {
    name: 'lint',
    what: 'Biome',
    command: [bin('biome'), 'check', '.'],
    parse: byExitCode,
    local: false,
  },
  {
    name: 'types',
    what: 'type tests (tests/types) under TypeScript 5 and the current major',
    command: [process.execPath, '--import', 'tsx', 'tests/types/check.ts'],
    parse: tap,
  },
  {
    name: 'bun',
    what: 'the suite under Bun (plain `bun test`: bunfig.toml)',
    command: [bin('bun'), 'test'],
    parse: bun,
  },
  {
    name: 'deno',
    what: 'the suite under Deno, type-checked (plain `deno test -A`: deno.json)',
    command: [bin('deno'), 'test', '-A'],
    parse: deno,
  },
  { name: 'node', what: 'the suite under Node', command: nodeTest('tests/suite'), parse: tap },
  {
    name: 'memory',
    what: 'the suite under Node against memoryDynamoDB() (TEST_DYNAMODB=memory)',
    command: nodeTest('tests/suite'),
    parse: tap,
    env: { ...WITHOUT_DYNAMODB, TEST_DYNAMODB: 'memory' },
    local: false,
  },
  {
    // Node only (it runs the middleware on a virtual clock and an in-process network), both
    // backends in one process, its own time budget: not part of the suite steps.
    name: 'model',
    what: 'random histories judged by a model of docs/guarantees.md, on memory and DynamoDB Local',
    command: nodeTest('tests/model'),
    parse: tap,
  },
  {
    name: 'kit-bun',
    what: 'examples/testing: the demo on memoryDynamoDB() with bun test',
    command: [bin('bun'), 'test', './examples/testing/bun.test.ts'],
    parse: bun,
    env: WITHOUT_DYNAMODB,
    local: false,
  },
  {
    name: 'kit-deno',
    what: 'examples/testing: the demo on memoryDynamoDB() with deno test',
    command: [bin('deno'), 'test', '-A', 'examples/testing/deno.test.ts'],
    parse: deno,
    env: WITHOUT_DYNAMODB,
    local: false,
  },
  {
    name: 'kit-node',
    what: 'examples/testing: the demo on memoryDynamoDB() with node --test',
    command: [
      process.execPath,
      '--import',
      'tsx',
      '--test',
      '--test-reporter=tap',
      'examples/testing/node.test.ts',
    ],
    parse: tap,
    env: WITHOUT_DYNAMODB,
    local: false,
  },
  {
    name: 'workerd',
    what: 'the middleware in workerd (Miniflare), wrangler dry run',
    command: nodeTest('tests/workerd'),
    parse: tap,
  },
  {
    name: 'cross-runtime',
    what: 'one session through Bun, Deno, Node and workerd',
    command: nodeTest('tests/cross-runtime'),
    parse: tap,
  },
  {
    name: 'examples',
    what: 'the demo app and npm start',
    command: nodeTest('tests/examples'),
    parse: tap,
  },
  {
    name: 'browser',
    what: 'the demo in headless Chromium',
    command: nodeTest('tests/browser'),
    parse: tap,
  },
  { name: 'cli', what: 'the dynamo-session CLI', command: nodeTest('tests/cli'), parse: tap },
  {
    name: 'regions',
    what: 'the multi-region harness: three DynamoDB Locals of its own replicated as a global table',
    command: nodeTest('tests/regions'),
    parse: tap,
    env: WITHOUT_DYNAMODB,
    local: false,
    java: true,
  },
  {
    name: 'load',
    what: '5,000 requests over HTTP (Node)',
    command: nodeTest('tests/node'),
    parse: tap,
  },
  {
    name: 'package',
    what: 'npm pack, publint, attw, JSR checks',
    command: nodeTest('tests/package'),
    parse: tap,
  },
  {
    name: 'docs',
    what: 'README and docs/deploy.md pasted into a scratch project: tarball, Node, Bun, Deno, wrangler dev',
    command: nodeTest('tests/docs'),
    parse: tap,
    // It starts the DynamoDB Local the README shows, and sets what the README exports.
    env: WITHOUT_DYNAMODB,
    local: false,
    java: true,
  },
  {
    name: 'bench',
    what: 'every benchmark with tiny counts',
    command: nodeTest('tests/bench'),
    parse: tap,
  },
]

function run(step: Step, base: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  const env = { ...base }
  for (const [k, v] of Object.entries(step.env ?? {})) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return new Promise((resolve) => {
    const [command, ...args] = step.command
    const child = spawn(command, args, { env, cwd: step.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const tee = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      output += chunk
      stream.write(chunk)
    }
    child.stdout.on('data', tee(process.stdout))
    child.stderr.on('data', tee(process.stderr))
    child.on('error', (error) => {
      output += String(error)
      resolve({ code: 1, output })
    })
    child.on('close', (code) => resolve({ code: code ?? 1, output }))
  })
}

async function main() {
  const args = process.argv.slice(2)
  if (args.includes('--list')) {
    for (const s of STEPS) console.log(`${s.name.padEnd(14)} ${s.what}`)
    return
  }
  // `--only` without names selects nothing rather than everything.
  const only = args.includes('--only')
    ? (args[args.indexOf('--only') + 1] ?? '').split(',')
    : undefined
  const unknown = only?.filter((n) => !STEPS.some((s) => s.name === n)) ?? []
  if (unknown.length) {
    console.error(unknownSteps(unknown))
    process.exitCode = 2
    return
  }
  const steps = STEPS.filter((s) => !only || only.includes(s.name))

  const started = Date.now()
  const needsLocal = steps.some((s) => s.local !== false)
  if ((needsLocal || steps.some((s) => s.java)) && !hasJava()) {
    console.error(
      'npm test needs Java 11 or later for DynamoDB Local: install a JRE (Debian/Ubuntu: apt-get install default-jre-headless) or set JAVA_HOME',
    )
    process.exitCode = 1
    return
  }
  const ddb = needsLocal ? await startDynamoDBLocal() : undefined
  if (ddb) console.log(`DynamoDB Local (pid ${ddb.pid}) at ${ddb.endpoint}`)
  const env = {
    ...process.env,
    ...(ddb ? { TEST_DYNAMODB_ENDPOINT: ddb.endpoint } : {}),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  }
  const results: { step: Step; counts: Counts; code: number; seconds: number }[] = []
  try {
    for (const step of steps) {
      console.log(`\n=== ${step.name}: ${step.what}\n$ ${step.command.join(' ')}`)
      const t = Date.now()
      const { code, output } = await run(step, env)
      const counts = step.parse(output)
      if (step.parse === byExitCode) counts[code === 0 ? 'passed' : 'failed'] = 1
      // A non-zero exit with no failure counted (a crash, a load error) is a failure too.
      if (code !== 0 && counts.failed === 0) counts.failed = 1
      if (code === 0 && counts.passed === 0) counts.failed += 1 // ran no test: not a pass
      results.push({ step, counts, code, seconds: (Date.now() - t) / 1000 })
    }
  } finally {
    await ddb?.stop()
  }

  console.log('\n=== summary')
  for (const r of results) {
    const status = r.code === 0 && r.counts.failed === 0 ? 'ok  ' : 'FAIL'
    const { passed, failed, skipped = 0 } = r.counts
    console.log(
      `${status} ${r.step.name.padEnd(14)} ${String(passed).padStart(4)} passed ${String(failed).padStart(3)} failed ${String(skipped).padStart(3)} skipped ${r.seconds.toFixed(1).padStart(6)} s  ${r.step.what}`,
    )
  }
  const sum = (key: keyof Counts) => results.reduce((n, r) => n + (r.counts[key] ?? 0), 0)
  console.log(`total time ${((Date.now() - started) / 1000).toFixed(0)} s`)
  const skipped = sum('skipped')
  console.log(
    `${sum('passed')} passed, ${sum('failed')} failed${skipped ? `, ${skipped} skipped` : ''}`,
  )
  process.exitCode = sum('failed') > 0 ? 1 : 0
}

/** One line for misspelt step names, with the closest name when one is near. */
function unknownSteps(names: string[]): string {
  const near = (name: string) =>
    STEPS.map((s) => s.name)
      .map((step) => ({ step, d: editDistance(name, step) }))
      .filter(({ step, d }) => d <= Math.max(1, Math.floor(step.length / 3)))
      .sort((a, b) => a.d - b.d)[0]?.step
  const each = names
    .filter(Boolean)
    .map((n) => (near(n) ? `"${n}" (did you mean ${near(n)}?)` : `"${n}"`))
  if (names.every((n) => n === ''))
    return 'npm test: --only needs step names, such as --only node,bun'
  return `npm test: unknown step ${each.join(', ')}; npm test -- --list names the steps`
}

/** Levenshtein distance: how many one-letter edits turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[b.length]
}

/** Whether `java` (or $JAVA_HOME/bin/java) runs. */
function hasJava(): boolean {
  const home = process.env.JAVA_HOME
  const java = home && existsSync(join(home, 'bin', 'java')) ? join(home, 'bin', 'java') : 'java'
  return spawnSync(java, ['-version'], { stdio: 'ignore' }).status === 0
}

main().catch((error) => {
  console.error(error)
  console.log('0 passed, 1 failed')
  process.exitCode = 1
})
