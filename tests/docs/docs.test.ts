// The paths a new user pastes, run as written: the code blocks of README.md, of the Node, Bun,
// Deno and Workers sections of docs/deploy.md and of docs/errors.md's `app.onError` example, in a
// scratch project in a temporary folder, against the packed tarball and the DynamoDB Local the
// README starts (from the npm registry, with -sharedDb).
//
// Every block of those sections carries a marker on the line above its fence, which says what
// this test does with it:
//
//   <!-- docs-test: run -->            sh: run in one shell, from where the last `run` left off
//                                      (its `cd` and `export`s carry over to the next blocks)
//   <!-- docs-test: background -->     sh: a terminal of its own: run all lines but the last, then
//                                      start the last (DynamoDB Local) and keep it until the end
//   <!-- docs-test: file app.ts -->    saved under that name in the project
//   <!-- docs-test: serve -->          sh: each line starts a server; a session must work through it
//                                      (Set-Cookie, then the cookie brings the session back)
//   <!-- docs-test: test -->           sh: each line runs a test runner; it must pass at least one
//                                      test and fail none
//   <!-- docs-test: skip: why -->      not run, for the reason given
//
// What differs from a user's machine, and nothing else: the ports (8000 and 3000 are replaced by
// free ones, and PORT is set), the package (`npm install @dynamo-session/hono` installs the
// tarball), and the tools that come from this repository's node_modules (`bun`, `deno`, and
// `wrangler` for `npx wrangler`, which also gets `--port` and `--ip 127.0.0.1`). Nothing phones
// home: wrangler's metrics, error reports, update check and `Request.cf` fetch, and Deno's update
// check are off.
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { openSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type FencedBlock, fencedBlocks } from '../examples/markdown.ts'
import { freePort } from '../infra/dynamodb-local.ts'
import { packTarball } from '../package/pack.ts'
import { sleep } from '../support/clock.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The pages and sections whose blocks are run; `undefined`: the whole page. */
const SOURCES: { file: string; sections?: string[] }[] = [
  { file: 'README.md' },
  {
    file: 'docs/deploy.md',
    sections: ['Node and Bun servers', 'Deno and Deno Deploy', 'Cloudflare Workers'],
  },
  { file: 'docs/errors.md', sections: ['Handling errors in `app.onError`'] },
]

type Kind = 'run' | 'background' | 'file' | 'serve' | 'test' | 'skip'

interface Step extends FencedBlock {
  file: string
  kind: Kind
  /** The file name of `file`, the reason of `skip`. */
  argument: string
}

function stepsOf(): { steps: Step[]; problems: string[] } {
  const steps: Step[] = []
  const problems: string[] = []
  for (const { file, sections } of SOURCES) {
    const markdown = readFileSync(join(ROOT, file), 'utf8')
    for (const section of sections ?? []) {
      if (!markdown.includes(`\n## ${section}\n`)) problems.push(`${file}: no section ${section}`)
    }
    for (const block of fencedBlocks(markdown)) {
      if (sections && !sections.includes(block.section)) continue
      const where = `${file}:${block.line}`
      const m = /^(run|background|serve|test)$|^(file) (\S+)$|^(skip): (\S.*)$/.exec(
        block.marker ?? '',
      )
      if (!m) {
        problems.push(`${where}: no <!-- docs-test: … --> marker, or an unknown one`)
        continue
      }
      const kind = (m[1] ?? m[2] ?? m[4]) as Kind
      if (['run', 'background', 'serve', 'test'].includes(kind) && block.lang !== 'sh') {
        problems.push(`${where}: a ${kind} block must be sh, not ${block.lang}`)
      }
      steps.push({ ...block, file, kind, argument: m[3] ?? m[5] ?? '' })
    }
  }
  return { steps, problems }
}

const { steps: STEPS, problems: PROBLEMS } = stepsOf()

/** The command lines of a block, comments and blank lines left out. */
const commands = (code: string) =>
  code
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line && !line.startsWith('#'))

interface Ports {
  dynamodb: number
  server?: number
}

/** The block as this machine runs it: free ports, the tarball, this repository's tools. */
function localise(code: string, ports: Ports, tarball: string): string {
  return code
    .split('\n')
    .map((line) => {
      let out = line.replace(/\b8000\b/g, String(ports.dynamodb))
      if (ports.server) out = out.replace(/\b3000\b/g, String(ports.server))
      if (/^\s*npm (install|i|add)\b/.test(out)) {
        out = out.replace(/(?<=\s)@dynamo-session\/hono(?=\s|$)/g, tarball)
      }
      out = out.replace(/^(\s*)npx wrangler\b/, '$1wrangler')
      if (/^\s*wrangler dev\b/.test(out) && !/--port\b/.test(out) && ports.server) {
        out = out.replace(/\s*(#.*)?$/, ` --port ${ports.server} --ip 127.0.0.1`)
      }
      return out
    })
    .join('\n')
}

interface Run {
  code: number
  output: string
}

function sh(script: string, cwd: string, env: NodeJS.ProcessEnv, timeout = 180_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', script],
      { cwd, env, timeout, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, output: `${stdout}${stderr}` })
      },
    )
  })
}

/** Resolves once something accepts connections on the port; rejects if `child` exits first. */
async function listening(port: number, child: ChildProcess, log: string, ms = 60_000) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`exited before listening on ${port}:\n${readFileSync(log, 'utf8')}`)
    }
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.end()
        done(true)
      })
      socket.once('error', () => done(false))
    })
    if (open) return
    await sleep(200)
  }
  throw new Error(`nothing listened on ${port} within ${ms} ms:\n${readFileSync(log, 'utf8')}`)
}

/** A process group started here: stopped by its id, SIGKILL after a grace period. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return
  const exited = new Promise((r) => child.once('exit', r))
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), s)
    } catch {
      // already gone
    }
  }
  signal('SIGTERM')
  const timer = setTimeout(() => signal('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

/** Passed and failed tests in the output of node --test, bun test or deno test. */
function testCounts(output: string): { passed: number; failed: number } {
  const plain = output.replace(/\u001b\[[0-9;]*m/g, '')
  const first = (...patterns: RegExp[]) => {
    for (const p of patterns) {
      const m = p.exec(plain)
      if (m) return Number(m[1])
    }
    return undefined
  }
  return {
    passed: first(/^(?:# |ℹ )pass (\d+)$/m, /^\s*(\d+) pass$/m, /\| (\d+) passed/) ?? 0,
    failed: first(/^(?:# |ℹ )fail (\d+)$/m, /^\s*(\d+) fail$/m, /\| (\d+) failed/) ?? -1,
  }
}

describe('the blocks of README.md, docs/deploy.md (servers, Deno, Workers) and errors.md', () => {
  test('each is run or says why not, and together they serve on Node, Bun, Deno and a Worker and test on each runner', () => {
    assert.deepEqual(PROBLEMS, [])
    const lines = (kind: Kind) =>
      STEPS.filter((s) => s.kind === kind).flatMap((s) => commands(s.code))
    const serves = lines('serve')
    for (const start of [
      /^node --import tsx \S+\.ts$/,
      /^bun \S+\.ts$/,
      /^deno serve /,
      /^npx wrangler dev$/,
    ]) {
      assert.ok(
        serves.some((l) => start.test(l)),
        `a server started with ${start}: ${serves}`,
      )
    }
    const tests = lines('test')
    for (const runner of [/^node --import tsx --test /, /^bun test /, /^deno test /]) {
      assert.ok(
        tests.some((l) => runner.test(l)),
        `tests run with ${runner}: ${tests}`,
      )
    }
    // Without file names, `node --import tsx --test` finds no test on Node 20 and exits with 0.
    for (const line of tests.filter((l) => /--test\b/.test(l))) {
      assert.match(line, /\.ts$/, `names its test files: ${line}`)
    }
    for (const skip of STEPS.filter((s) => s.kind === 'skip')) {
      assert.ok(skip.argument.length > 10, `${skip.file}:${skip.line} says why it is not run`)
    }
  })
})

describe('pasted into a scratch project, against the tarball and DynamoDB Local', () => {
  let scratch = ''
  let tarball = ''
  const ports: Ports = { dynamodb: 0 }
  /** Where the last `run` block left the shell: its folder and its environment. */
  const shell: { cwd: string; env: NodeJS.ProcessEnv } = { cwd: '', env: {} }
  /** The environment a new terminal starts with. */
  let terminal: NodeJS.ProcessEnv = {}
  const background: ChildProcess[] = []
  // Should this process end without `after` (a crash, Ctrl-C), the groups it started end with it.
  const killAll = () => {
    for (const child of background) {
      try {
        if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  process.once('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll()
      process.kill(process.pid, signal)
    })
  }

  before(async () => {
    scratch = await realpath(await mkdtemp(join(tmpdir(), 'dynamo-session-docs-')))
    ;({ tarball } = await packTarball(scratch))
    ports.dynamodb = await freePort()
    // This repository's runtimes, under the names a user types.
    const bin = join(scratch, '.bin')
    await mkdir(bin)
    for (const tool of ['bun', 'deno', 'wrangler', 'workerd']) {
      await symlink(await realpath(join(ROOT, 'node_modules', '.bin', tool)), join(bin, tool))
    }
    const env: NodeJS.ProcessEnv = {}
    for (const [k, v] of Object.entries(process.env)) {
      // A user's shell: no AWS or session settings, nothing of npm's or node --test's own.
      if (!/^(AWS_|SESSION_|TEST_DYNAMODB|npm_|NODE_TEST_CONTEXT$|NODE_CHANNEL_)/.test(k))
        env[k] = v
    }
    Object.assign(env, {
      PATH: [bin, dirname(process.execPath), process.env.PATH].join(delimiter),
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      npm_config_prefer_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      DENO_NO_UPDATE_CHECK: '1',
      DENO_NO_PROMPT: '1',
      WRANGLER_SEND_METRICS: 'false',
      WRANGLER_SEND_ERROR_REPORTS: 'false',
      WRANGLER_HIDE_BANNER: 'true', // and with it the banner's update check
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_LOG_PATH: join(scratch, 'wrangler-logs'),
    })
    shell.cwd = scratch
    shell.env = env
    terminal = env
  })

  after(async () => {
    await Promise.all(background.map(stop))
    if (scratch) await rm(scratch, { recursive: true, force: true })
  })

  /** Starts `command` in a process group of its own, its output in a log file. */
  function start(command: string, cwd: string, env: NodeJS.ProcessEnv, name: string) {
    const log = join(scratch, `${name}.log`)
    const fd = openSync(log, 'w')
    const child = spawn('bash', ['-c', `exec ${command}`], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', fd, fd],
    })
    background.push(child)
    return { child, log }
  }

  /** Two requests through a server: a new session (Set-Cookie), then the cookie brings it back. */
  async function sessionWorks(port: number) {
    const url = `http://127.0.0.1:${port}/`
    const first = await fetch(url)
    assert.equal(first.status, 200, await first.clone().text())
    assert.equal(await first.text(), 'Visits: 1')
    const cookie = first.headers.get('set-cookie')?.split(';')[0] ?? ''
    assert.match(cookie, /^sid=\S+/)
    const second = await fetch(url, { headers: { cookie } })
    assert.equal(await second.text(), 'Visits: 2', 'the cookie brought the session back')
    const third = await fetch(url)
    assert.equal(await third.text(), 'Visits: 1', 'without the cookie, a new session')
  }

  for (const step of STEPS.filter((s) => s.kind !== 'skip')) {
    const where = `${step.file}:${step.line}`
    if (step.kind === 'run') {
      test(`${where} runs: ${commands(step.code).join('; ')}`, async () => {
        const state = join(scratch, '.state')
        const script = `set -e\n${localise(step.code, ports, tarball)}\npwd > ${state}.cwd\nenv -0 > ${state}.env\n`
        const { code, output } = await sh(script, shell.cwd, shell.env)
        assert.equal(code, 0, output)
        shell.cwd = (await readFile(`${state}.cwd`, 'utf8')).trim()
        shell.env = Object.fromEntries(
          (await readFile(`${state}.env`, 'utf8'))
            .split('\0')
            .filter(Boolean)
            .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        )
      })
    } else if (step.kind === 'file') {
      test(`${where} is saved as ${step.argument}`, async () => {
        await writeFile(join(shell.cwd, step.argument), localise(step.code, ports, tarball))
      })
    } else if (step.kind === 'background') {
      const lines = commands(step.code)
      test(`${where} starts in a terminal of its own: ${lines.at(-1)}`, async () => {
        // A new terminal: the scratch folder and the environment the test started with.
        const setup = localise(lines.slice(0, -1).join('\n'), ports, tarball)
        const { code, output } = await sh(`set -e\n${setup}`, scratch, terminal)
        assert.equal(code, 0, output)
        const last = localise(lines.at(-1) as string, ports, tarball)
        const { child, log } = start(last, scratch, terminal, 'background')
        await listening(ports.dynamodb, child, log)
      })
    } else if (step.kind === 'serve') {
      for (const line of commands(step.code)) {
        test(`${where} serves a working session: ${line}`, async () => {
          const port = await freePort()
          const command = localise(line, { ...ports, server: port }, tarball)
          const env = { ...shell.env, PORT: String(port) }
          const { child, log } = start(command, shell.cwd, env, `serve-${port}`)
          try {
            await listening(port, child, log)
            await sessionWorks(port)
          } catch (error) {
            throw new Error(`${command}: ${(error as Error).message}\n${readFileSync(log, 'utf8')}`)
          } finally {
            await stop(child)
          }
        })
      }
    } else if (step.kind === 'test') {
      for (const line of commands(step.code)) {
        test(`${where} passes: ${line}`, async () => {
          const { code, output } = await sh(localise(line, ports, tarball), shell.cwd, shell.env)
          assert.equal(code, 0, output)
          const { passed, failed } = testCounts(output)
          assert.ok(passed > 0 && failed === 0, `${passed} passed, ${failed} failed:\n${output}`)
        })
      }
    }
  }

  test("docs/errors.md's app.onError: a store error is logged once, by the library, and answered as the page says", async () => {
    const app = STEPS.find((s) => s.file === 'docs/errors.md' && s.kind === 'file')
    assert.ok(app, 'errors.md has a docs-test: file block')
    // The app behind a console.error that records what it is given.
    const driver = `const logged: string[] = []
console.error = (...args: unknown[]) => { logged.push(args.map(String).join(' ')) }
const { default: app } = await import('./${app.argument}')
const res = await app.request('/')
console.log(JSON.stringify({ status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after'), logged }))
`
    await writeFile(join(shell.cwd, 'errors-driver.ts'), driver)
    const request = async (env: Record<string, string>) => {
      const { code, output } = await sh(
        'node --import tsx errors-driver.ts',
        shell.cwd,
        { ...shell.env, ...env },
        60_000,
      )
      assert.equal(code, 0, output)
      return JSON.parse(output.trim().split('\n').at(-1) as string)
    }

    const missing = await request({ SESSION_TABLE: 'no-such-table' })
    assert.equal(missing.status, 500)
    assert.equal(missing.body, 'Internal Server Error')
    assert.equal(missing.logged.length, 1, missing.logged.join('\n---\n'))
    assert.match(missing.logged[0], /^DynamoSessionError TABLE_NOT_FOUND: .*no-such-table/)

    const down = await request({
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${await freePort()}`,
    })
    assert.equal(down.status, 503)
    assert.equal(down.retryAfter, '1')
    assert.match(down.body, /try again/)
    assert.equal(down.logged.length, 1, down.logged.join('\n---\n'))
    assert.doesNotMatch(down.logged.join('\n'), /undefined/)
  })
})
