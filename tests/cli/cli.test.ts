// The dynamo-session CLI as a user runs it: a child process, options from flags or the AWS
// environment variables, against DynamoDB Local; each failure with its message and exit code.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { testEndpoint } from '../env.ts'
import { ddb } from '../helpers.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const NODE_CLI = ['--import', 'tsx', 'src/cli.ts']

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command in the repository with exactly `env` (plus PATH and HOME). */
function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        timeout: 30_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (error as { code?: unknown }).code : 0
        if (typeof code !== 'number') reject(error)
        else resolve({ code, stdout, stderr })
      },
    )
  })
}

const cli = (args: string[], env?: Record<string, string>) =>
  run(process.execPath, [...NODE_CLI, ...args], env)

/** Credentials and region from the environment, as on a developer's machine. */
const awsEnv = (): Record<string, string> => ({
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_ENDPOINT_URL_DYNAMODB: testEndpoint(),
})

const uniqueTable = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`

/** A loopback port nothing listens on: taken from the OS, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

async function tableExists(table: string): Promise<boolean> {
  const { TableNames } = await ddb('ListTables', {})
  return TableNames.includes(table)
}

/** Items 0..n-1; those with i < expired expire in the past. */
async function seedSessions(table: string, n: number, expired: number) {
  const now = Math.floor(Date.now() / 1000)
  for (let i = 0; i < n; i += 25) {
    const requests = Array.from({ length: Math.min(25, n - i) }, (_, k) => ({
      PutRequest: {
        Item: {
          id: { S: `s${i + k}` },
          data: { M: { n: { N: String(i + k) } } },
          expires: { N: String(i + k < expired ? now - 60 : now + 3600) },
        },
      },
    }))
    await ddb('BatchWriteItem', { RequestItems: { [table]: requests } })
  }
}

describe('dynamo-session --help', { concurrency: 4 }, () => {
  test('lists the commands, the options with their environment variables, and the exit codes', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const { code, stdout, stderr } = await cli(args)
      assert.equal(code, 0)
      assert.equal(stderr, '')
      assert.match(stdout, /^Usage: dynamo-session <command>/)
      for (const word of [
        'create-table',
        'sweep',
        '--table',
        'SESSION_TABLE',
        '--region',
        'AWS_REGION',
        'AWS_DEFAULT_REGION',
        '--endpoint',
        'AWS_ENDPOINT_URL_DYNAMODB',
        'AWS_ACCESS_KEY_ID',
        'Exit codes',
      ]) {
        assert.ok(stdout.includes(word), `the help mentions ${word}`)
      }
    }
  })

  test('each command has its own help, also as help <command>', async () => {
    for (const command of ['create-table', 'sweep']) {
      const own = await cli([command, '--help'])
      assert.equal(own.code, 0)
      assert.match(own.stdout, new RegExp(`^Usage: dynamo-session ${command} \\[options\\]`))
      assert.deepEqual(await cli(['help', command]), own)
    }
    assert.match((await cli(['create-table', '--help'])).stdout, /UpdateTimeToLive/)
    assert.match((await cli(['sweep', '--help'])).stdout, /BatchWriteItem/)
  })

  test('--version prints the version of package.json', async () => {
    const { createRequire } = await import('node:module')
    const { version } = createRequire(import.meta.url)('../../package.json')
    const { code, stdout } = await cli(['--version'])
    assert.equal(code, 0)
    assert.equal(stdout, `${version}\n`)
  })
})

describe('dynamo-session usage errors exit with 2', { concurrency: 4 }, () => {
  for (const [args, message] of [
    [[], /no command given/],
    [['drop-table'], /unknown command "drop-table"/],
    [['sweep', '--tabel', 'x'], /--tabel/],
    [['sweep', '--table'], /--table/],
    [['sweep', 'extra'], /unexpected argument "extra"/],
    [['create-table', '--endpoint', 'localhost:8000'], /--endpoint must be an http\(s\) URL/],
    [['help', 'nope'], /unknown command "nope"/],
  ] as const) {
    test(`dynamo-session ${args.join(' ') || '(nothing)'}`, async () => {
      const { code, stdout, stderr } = await cli([...args], awsEnv())
      assert.equal(code, 2)
      assert.equal(stdout, '')
      assert.match(stderr, message)
      assert.match(stderr, /dynamo-session --help/)
    })
  }
})

describe('dynamo-session create-table', { concurrency: 4 }, () => {
  test('creates the table from the environment, then finds it on a second run', async () => {
    const table = uniqueTable('cli-env')
    const env = { ...awsEnv(), SESSION_TABLE: table }
    const first = await cli(['create-table'], env)
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, new RegExp(`Created table "${table}"`))
    const ttl = await ddb('DescribeTimeToLive', { TableName: table })
    assert.equal(ttl.TimeToLiveDescription.TimeToLiveStatus, 'ENABLED')
    assert.equal(ttl.TimeToLiveDescription.AttributeName, 'expires')

    const second = await cli(['create-table'], env)
    assert.equal(second.code, 0, second.stderr)
    assert.match(second.stdout, new RegExp(`Table "${table}" already exists`))
  })

  test('flags win over the environment', async () => {
    const fromFlag = uniqueTable('cli-flag')
    const fromEnv = uniqueTable('cli-unused')
    const { AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, ...credentialsOnly } = awsEnv()
    const env = {
      ...credentialsOnly,
      SESSION_TABLE: fromEnv,
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: `http://127.0.0.1:${await closedPort()}`,
    }
    const args = ['create-table', '--table', fromFlag, '--endpoint', AWS_ENDPOINT_URL_DYNAMODB]
    const { code, stdout, stderr } = await cli([...args, '--region', AWS_REGION], env)
    assert.equal(code, 0, stderr)
    assert.match(stdout, /Created table/)
    assert.ok(await tableExists(fromFlag))
    assert.ok(!(await tableExists(fromEnv)))
  })
})

describe('dynamo-session sweep', { concurrency: 4 }, () => {
  test('deletes the expired sessions and prints the count', async () => {
    const table = uniqueTable('cli-sweep')
    assert.equal((await cli(['create-table', '--table', table], awsEnv())).code, 0)
    await seedSessions(table, 40, 27)
    const { code, stdout, stderr } = await cli(['sweep', '--table', table], awsEnv())
    assert.equal(code, 0, stderr)
    assert.equal(stderr, '', 'no progress line when stderr is not a terminal')
    assert.equal(stdout, `Deleted 27 expired sessions from table "${table}" (scanned 40 items).\n`)
    const { Count } = await ddb('Scan', { TableName: table, Select: 'COUNT' })
    assert.equal(Count, 13)
  })

  test('shows a progress line on a terminal', async () => {
    const table = uniqueTable('cli-tty')
    assert.equal((await cli(['create-table', '--table', table], awsEnv())).code, 0)
    await seedSessions(table, 5, 2)
    // script(1) runs the command on a pseudo-terminal, as an interactive shell would.
    const command = [process.execPath, ...NODE_CLI, 'sweep', '--table', table].join(' ')
    const { code, stdout } = await run('script', ['-qec', command, '/dev/null'], awsEnv())
    assert.equal(code, 0, stdout)
    assert.ok(stdout.includes('\r\x1b[Kscanned 5 items, deleted 2'), JSON.stringify(stdout))
    assert.match(stdout, /Deleted 2 expired sessions/)
  })

  test('runs under Bun too', async () => {
    const table = uniqueTable('cli-bun')
    assert.equal((await cli(['create-table', '--table', table], awsEnv())).code, 0)
    await seedSessions(table, 3, 1)
    const bun = `${ROOT}node_modules/.bin/bun`
    const { code, stdout, stderr } = await run(
      bun,
      ['src/cli.ts', 'sweep', '--table', table],
      awsEnv(),
    )
    assert.equal(code, 0, stderr)
    assert.match(stdout, /Deleted 1 expired session from table/)
  })
})

describe('dynamo-session failures', { concurrency: 4 }, () => {
  test('no region: exit 3, naming --region and AWS_REGION', async () => {
    const { AWS_REGION, ...env } = awsEnv()
    const { code, stdout, stderr } = await cli(['create-table'], env)
    assert.equal(code, 3)
    assert.equal(stdout, '')
    assert.match(stderr, /^dynamo-session: No AWS region/)
    assert.match(stderr, /--region/)
    assert.match(stderr, /AWS_REGION/)
  })

  test('no credentials: exit 3, naming the variables', async () => {
    const { AWS_ACCESS_KEY_ID, ...env } = awsEnv()
    const { code, stderr } = await cli(['sweep'], env)
    assert.equal(code, 3)
    assert.match(stderr, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/)
  })

  test('sweep on a missing table: exit 4, naming the table and create-table', async () => {
    const table = uniqueTable('cli-missing')
    const { code, stdout, stderr } = await cli(['sweep', '--table', table], awsEnv())
    assert.equal(code, 4)
    assert.equal(stdout, '')
    assert.ok(stderr.includes(`"${table}"`), stderr)
    assert.match(stderr, /ResourceNotFoundException|not found/)
    assert.match(stderr, /dynamo-session create-table --table/)
  })

  test('connection refused: exit 5, naming the endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`
    for (const command of ['create-table', 'sweep']) {
      const { code, stdout, stderr } = await cli([command, '--endpoint', endpoint], awsEnv())
      assert.equal(code, 5)
      assert.equal(stdout, '')
      assert.equal(
        stderr,
        `dynamo-session: cannot reach DynamoDB at ${endpoint}: connection refused. Is DynamoDB Local running there? Check --endpoint and AWS_ENDPOINT_URL_DYNAMODB.\n`,
      )
    }
  })
})
