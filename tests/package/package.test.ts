// What npm and JSR users install: the tarball holds only the build, its types, the README, the
// reference in docs/, the CHANGELOG and the LICENSE (README links resolve in it); publint,
// arethetypeswrong and `deno publish --dry-run` accept it; deno.json and package.json agree; the
// CLI in the tarball runs through npx; a Worker never bundles the CLI nor the testing kit; a
// project that installs the tarball tests its app with `bun test` on memoryDynamoDB(), without Java.
// Builds dist/ (npm pack runs prepack), so it must not run alongside tests that import dist/.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { packTarball } from './pack.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BIN = join(ROOT, 'node_modules', '.bin')

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(
  command: string,
  args: string[],
  cwd = ROOT,
  env: Record<string, string> = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        cwd,
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: '1', ...env },
      },
      (error, stdout, stderr) => {
        const code = error ? (error as { code?: unknown }).code : 0
        if (typeof code !== 'number') reject(error)
        else resolve({ code, stdout, stderr })
      },
    )
  })
}

async function ok(command: string, args: string[], cwd?: string): Promise<Run> {
  const result = await run(command, args, cwd)
  assert.equal(result.code, 0, `${command} ${args.join(' ')}\n${result.stdout}\n${result.stderr}`)
  return result
}

// biome-ignore lint/suspicious/noExplicitAny: package manifests are free-form JSON
type Json = any

/** Where package.json and deno.json disagree on what users get; empty when they agree. */
export function manifestDrift(pkg: Json, deno: Json): string[] {
  const problems: string[] = []
  if (pkg.name !== deno.name)
    problems.push(`name: package.json ${pkg.name}, deno.json ${deno.name}`)
  if (pkg.version !== deno.version) {
    problems.push(`version: package.json ${pkg.version}, deno.json ${deno.version}`)
  }
  const denoExports: Record<string, string> =
    typeof deno.exports === 'string' ? { '.': deno.exports } : (deno.exports ?? {})
  const pkgExports: Record<string, Json> =
    typeof pkg.exports === 'string' || Object.keys(pkg.exports ?? {})[0]?.startsWith('.') !== true
      ? { '.': pkg.exports }
      : pkg.exports
  const keys = (o: object) => Object.keys(o).sort().join(', ')
  if (keys(denoExports) !== keys(pkgExports)) {
    problems.push(
      `entry points: package.json has ${keys(pkgExports)}, deno.json has ${keys(denoExports)}`,
    )
  }
  for (const [key, source] of Object.entries(denoExports)) {
    const target = pkgExports[key]
    if (target === undefined) continue
    const built = String(source)
      .replace(/^\.\/src\//, './dist/')
      .replace(/\.ts$/, '')
    const js = typeof target === 'string' ? target : (target.default ?? target.import)
    const types = typeof target === 'string' ? undefined : target.types
    if (js !== `${built}.js`) {
      problems.push(
        `export ${key}: deno.json ${source} is built to ${built}.js, package.json says ${js}`,
      )
    }
    if (types !== `${built}.d.ts`) {
      problems.push(`export ${key}: types should be ${built}.d.ts, package.json says ${types}`)
    }
  }
  return problems
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A user's app, as in the README: a visit counter. */
const USER_APP = `import { Hono } from 'hono'
import { dynamoSession, type DynamoSessionOptions, type SessionEnv } from '@dynamo-session/hono'

export function makeApp(options: DynamoSessionOptions<{ visits: number }>) {
  const app = new Hono<SessionEnv<{ visits: number }>>()
  app.use(dynamoSession(options))
  app.get('/', (c) => {
    c.get('session').increment('visits')
    return c.json({ visits: c.get('session').get('visits') })
  })
  return app
}
`

/** The user's test of it with bun test and the testing kit. */
const USER_TEST = `import { expect, test } from 'bun:test'
import { createSessionTable } from '@dynamo-session/hono'
import { memoryDynamoDB } from '@dynamo-session/hono/testing'
import { makeApp } from './app.ts'

const connection = () => {
  const db = memoryDynamoDB()
  return {
    db,
    conn: {
      table: 'sessions',
      region: 'eu-west-1',
      endpoint: 'https://dynamodb.eu-west-1.amazonaws.com',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      fetch: db.fetch,
    },
  }
}
const secret = 'a-secret-for-tests-only-0123456789abcdef'

test('visits count across requests', async () => {
  const { db, conn } = connection()
  await createSessionTable(conn)
  const app = makeApp({ ...conn, secret })
  const first = await app.request('/')
  expect(await first.json()).toEqual({ visits: 1 })
  const cookie = first.headers.getSetCookie()[0].split(';')[0]
  const second = await app.request('/', { headers: { cookie } })
  expect(await second.json()).toEqual({ visits: 2 })
  expect(db.tables.get('sessions')?.items.length).toBe(1)
})

test('a missing table is a 500, as on DynamoDB', async () => {
  const { conn } = connection()
  const app = makeApp({ ...conn, secret, onError: (e, c) => c.text(e.code, 500) })
  const res = await app.request('/')
  expect(res.status).toBe(500)
  expect(await res.text()).toBe('TABLE_NOT_FOUND')
})

test('java is nowhere to be found', () => {
  expect(Bun.which('java')).toBeNull()
})
`

describe('the manifests', () => {
  test('package.json and deno.json agree on name, version and entry points', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
    const deno = JSON.parse(await readFile(join(ROOT, 'deno.json'), 'utf8'))
    assert.deepEqual(manifestDrift(pkg, deno), [])
    assert.deepEqual(deno.exports, { '.': './src/index.ts', './testing': './src/testing/index.ts' })
  })

  test("CHANGELOG.md's newest release is package.json's version, with a link, under an [Unreleased] heading", async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
    const changelog = await readFile(join(ROOT, 'CHANGELOG.md'), 'utf8')
    const headings = [...changelog.matchAll(/^## \[([^\]]+)\](.*)$/gm)].map((m) => [m[1], m[2]])
    assert.deepEqual(headings[0], ['Unreleased', ''])
    assert.equal(headings[1][0], version)
    assert.match(headings[1][1], /^ - \d{4}-\d{2}-\d{2}$/, 'a release has its date')
    assert.match(changelog, new RegExp(`^\\[${version.replaceAll('.', '\\.')}\\]: https://`, 'm'))
  })

  test('the drift check catches a version bump in one file only and a diverging entry point', () => {
    const pkg = {
      name: '@dynamo-session/hono',
      version: '0.2.0',
      exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    }
    const deno = { name: '@dynamo-session/hono', version: '0.2.0', exports: './src/index.ts' }
    assert.deepEqual(manifestDrift(pkg, deno), [])
    assert.match(manifestDrift(pkg, { ...deno, version: '0.1.0' }).join(), /version/)
    assert.match(manifestDrift(pkg, { ...deno, exports: './src/main.ts' }).join(), /export \./)
    assert.match(
      manifestDrift(pkg, {
        ...deno,
        exports: { '.': './src/index.ts', './table': './src/table.ts' },
      }).join(),
      /entry points/,
    )
    const noTypes = { ...pkg, exports: { '.': { default: './dist/index.js' } } }
    assert.match(manifestDrift(noTypes, deno).join(), /types/)
  })
})

describe('the npm package', () => {
  let dir = ''
  let tarball = ''
  let files: { path: string; mode: number }[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dynamo-session-pack-'))
    ;({ tarball, files } = await packTarball(dir))
  })
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  test('holds only the build, its types, README.md, docs/*.md, CHANGELOG.md, LICENSE and package.json', async () => {
    const paths = files.map((f) => f.path).sort()
    const extra = paths.filter(
      (p) =>
        // src/ laid out by rule (store/, cli/) and the testing kit by stage (testing/expressions/).
        !/^dist\/([a-z]+\/){0,2}[a-z0-9-]+\.(js|d\.ts)$/.test(p) &&
        !/^docs\/[a-z-]+\.md$/.test(p) &&
        !['README.md', 'CHANGELOG.md', 'LICENSE', 'package.json'].includes(p),
    )
    assert.deepEqual(extra, [])
    const docs = (await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md'))
    assert.ok(docs.length > 0)
    for (const needed of [
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      'package.json',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/testing/index.js',
      'dist/testing/index.d.ts',
      'dist/cli.js',
      ...docs.map((f) => `docs/${f}`),
    ]) {
      assert.ok(paths.includes(needed), `${needed} is in the tarball`)
    }
    // Every library module comes with its declarations; the CLI alone needs none.
    const modules = paths.filter((p) => p.endsWith('.js')).map((p) => p.slice(0, -3))
    for (const m of modules) {
      // The CLI and its own folder need none: nothing imports them.
      if (m !== 'dist/cli' && !m.startsWith('dist/cli/'))
        assert.ok(paths.includes(`${m}.d.ts`), `${m}.d.ts is in the tarball`)
    }
    assert.ok(!paths.includes('dist/cli.d.ts'))
  })

  test('the bin is executable and starts with a node shebang', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
    assert.deepEqual(pkg.bin, { 'dynamo-session': './dist/cli.js' })
    const cli = files.find((f) => f.path === 'dist/cli.js')
    assert.ok(cli && (cli.mode & 0o111) === 0o111, `dist/cli.js mode ${cli?.mode.toString(8)}`)
    const text = await readFile(join(ROOT, 'dist', 'cli.js'), 'utf8')
    assert.ok(text.startsWith('#!/usr/bin/env node\n'))
  })

  test('publint finds nothing to complain about', async () => {
    const { stdout } = await ok(join(BIN, 'publint'), ['--strict'])
    assert.match(stdout, /All good/)
  })

  test('arethetypeswrong passes for ESM consumers (node16 and bundlers)', async () => {
    const { stdout } = await ok(join(BIN, 'attw'), [
      tarball,
      '--profile',
      'esm-only',
      '--format',
      'json',
    ])
    const report = JSON.parse(stdout)
    const problems = (report.analysis?.problems ?? []).filter(
      (p: { kind: string; resolutionKind?: string }) =>
        !['node10', 'node16-cjs'].includes(p.resolutionKind ?? ''),
    )
    assert.deepEqual(problems, [])
  })

  test('npx runs the CLI from the tarball', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
    const npx = [
      'exec',
      '--yes',
      '--prefer-offline',
      `--package=${tarball}`,
      '--',
      'dynamo-session',
    ]
    const version = await ok('npm', [...npx, '--version'], dir)
    assert.equal(version.stdout.trim(), pkg.version)
    const help = await ok('npm', [...npx, 'sweep', '--help'], dir)
    assert.match(help.stdout, /^Usage: dynamo-session sweep/)
    // A real call through aws4fetch and fetch, without any DynamoDB: refused, exit code 5.
    const endpoint = `http://127.0.0.1:${await closedPort()}`
    const refused = await run(
      'npm',
      [...npx, 'sweep', '--endpoint', endpoint, '--region', 'us-east-1'],
      dir,
      { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
    )
    assert.equal(refused.code, 5, refused.stderr)
  })

  test('a project with the tarball and hono tests its app with bun test on memoryDynamoDB(), without Java', async () => {
    const project = join(dir, 'project')
    await mkdir(project)
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'project', private: true, type: 'module' }),
    )
    const hono = JSON.parse(await readFile(join(ROOT, 'node_modules/hono/package.json'), 'utf8'))
    await ok(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, `hono@${hono.version}`],
      project,
    )
    await writeFile(join(project, 'app.ts'), USER_APP)
    await writeFile(join(project, 'app.test.ts'), USER_TEST)
    // bun alone on the PATH: no java, no npm, no DynamoDB of any kind.
    const bin = join(project, 'bin')
    await mkdir(bin)
    await symlink(await realpath(join(BIN, 'bun')), join(bin, 'bun'))
    const tested = await run(join(bin, 'bun'), ['test'], project, { PATH: bin, JAVA_HOME: '' })
    assert.equal(tested.code, 0, `${tested.stdout}\n${tested.stderr}`)
    assert.match(tested.stderr, /^ 3 pass$/m)
    assert.match(tested.stderr, /^ 0 fail$/m)

    // What a Worker of that project bundles: the middleware, never the testing kit.
    const bundle = async (contents: string) =>
      (
        await build({
          stdin: { contents, resolveDir: project, loader: 'ts' },
          bundle: true,
          write: false,
          format: 'esm',
          platform: 'browser',
          conditions: ['workerd', 'worker', 'browser'],
          logLevel: 'silent',
        })
      ).outputFiles[0].text
    const worker = await bundle(
      "import { dynamoSession } from '@dynamo-session/hono'\nexport const m = dynamoSession()",
    )
    assert.ok(worker.includes('dynamoSession'))
    for (const absent of ['memoryDynamoDB', 'TransactionCanceledException', 'ABORT ABSOLUTE']) {
      assert.ok(!worker.includes(absent), `the Worker bundle contains ${absent}`)
    }
    const kit = await bundle(
      "import { memoryDynamoDB } from '@dynamo-session/hono/testing'\nexport const db = memoryDynamoDB()",
    )
    assert.ok(kit.includes('memoryDynamoDB') && kit.includes('TransactionCanceledException'))
    assert.doesNotMatch(kit, /["']node:[a-z]/, 'the testing kit imports no Node built-in')
  })

  test('the built dist/cli.js runs with node, with the same exit codes', async () => {
    const usage = await run(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'drop-table'])
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /unknown command "drop-table"/)
  })
})

describe('the JSR package', () => {
  test('deno check accepts the entry points', async () => {
    await ok(join(BIN, 'deno'), ['check', 'src/index.ts', 'src/testing/index.ts'])
  })

  test('deno publish --dry-run passes: no slow types, no global augmentation, src/ without the CLI, and the docs README links to', async () => {
    const { stdout, stderr } = await ok(join(BIN, 'deno'), [
      'publish',
      '--dry-run',
      '--allow-dirty',
    ])
    const out = `${stdout}${stderr}`
    assert.match(out, /Dry run complete/)
    const listed = [...out.matchAll(/file:\/\/\S+?\/(src\/\S+\.ts|docs\/[\w-]+\.md|[\w.]+) /g)].map(
      (m) => m[1],
    )
    assert.ok(listed.includes('src/index.ts'))
    const docs = (await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md'))
    for (const shipped of ['README.md', 'CHANGELOG.md', 'LICENSE', ...docs.map((f) => `docs/${f}`)])
      assert.ok(listed.includes(shipped), `${shipped} is published to JSR`)
    assert.ok(listed.includes('src/testing/index.ts'))
    assert.ok(!listed.includes('src/cli.ts'), 'the CLI is for npm only')
    assert.ok(!listed.some((p) => p.startsWith('src/cli/')), 'the CLI is for npm only')
    assert.ok(listed.every((p) => !p.startsWith('tests/') && !p.startsWith('examples/')))
  })
})

describe('a Worker bundle', () => {
  test('holds the middleware but nothing of the CLI, the table tools or the testing kit', async () => {
    const result = await build({
      stdin: {
        contents:
          "import { dynamoSession } from './src/index.ts'\nexport const middleware = dynamoSession()",
        resolveDir: ROOT,
        loader: 'ts',
      },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: ['workerd', 'worker', 'browser'],
      logLevel: 'silent',
    })
    const code = result.outputFiles[0].text
    assert.ok(code.includes('dynamoSession'))
    assert.doesNotMatch(code, /["']node:[a-z]/, 'no Node built-in is imported')
    for (const absent of [
      'parseArgs',
      'sweepExpiredSessions',
      'DescribeTimeToLive',
      'UpdateTimeToLive',
      'memoryDynamoDB',
      'TransactionCanceledException',
      'revokeSessions',
      'GlobalSecondaryIndexUpdates',
    ]) {
      assert.ok(!code.includes(absent), `the bundle contains ${absent}`)
    }
  })
})
