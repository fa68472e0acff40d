// The dynamo-session CLI as a user runs it: a child process, options from flags or the AWS
// environment variables, against DynamoDB Local; each failure with its message and exit code.
import assert from 'node:assert/strict'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { createServer } from 'node:net'
import { describe, test } from 'node:test'
import { DELETE_CONCURRENCY } from '../../src/table.ts'
import { startProcess } from '../infra/process.ts'
import { testEndpoint } from '../support/backend.ts'
import { awsEnv, cli, NODE_CLI, ROOT, run } from '../support/cli.ts'
import { sleep } from '../support/clock.ts'
import { ddb } from '../support/dynamodb.ts'

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

/**
 * A session table without TTL, as DynamoDB Local is started with: its own TTL deletion then never
 * removes the expired items a test seeds before the sweep does.
 */
async function tableWithoutTtl(table: string) {
  await ddb('CreateTable', {
    TableName: table,
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  })
}

/**
 * A slow DynamoDB: an HTTP proxy in front of DynamoDB Local that answers the first `answered`
 * DeleteItem calls and holds every later one without an answer.
 */
async function holdingProxy(answered: number) {
  let deletes = 0
  const proxy = {
    held: 0,
    url: '',
    async waitForHeld(n: number) {
      for (let waited = 0; proxy.held < n; waited += 20) {
        if (waited > 20_000) throw new Error(`only ${proxy.held} of ${n} deletes held`)
        await sleep(20)
      }
    },
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  }
  const server = createHttpServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const target = String(req.headers['x-amz-target'])
    if (target.endsWith('.DeleteItem') && ++deletes > answered) {
      proxy.held++
      return
    }
    const answer = await fetch(testEndpoint(), {
      method: 'POST',
      headers: {
        'content-type': String(req.headers['content-type']),
        'x-amz-target': target,
        authorization: String(req.headers.authorization),
      },
      body: Buffer.concat(chunks),
    })
    res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' })
    res.end(await answer.text())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  return proxy
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

  test('-v, --version is listed inside the options block', async () => {
    const { stdout } = await cli(['--help'])
    const block = stdout.slice(stdout.indexOf('Options:\n')).split('\n\n')[0]
    for (const line of ['  --table <name>', '  -h, --help', '  -v, --version']) {
      assert.ok(block.includes(`\n${line}`), `${line} in ${block}`)
    }
  })

  test('the examples run the scoped package, never a bare npx dynamo-session', async () => {
    const { stdout } = await cli(['--help'])
    assert.match(stdout, /npx @dynamo-session\/hono create-table/)
    assert.doesNotMatch(stdout, /npx dynamo-session/)
  })

  test('each command has its own help, also as help <command>', async () => {
    for (const command of ['create-table', 'sweep', 'sessions', 'revoke']) {
      const own = await cli([command, '--help'])
      assert.equal(own.code, 0)
      assert.match(own.stdout, new RegExp(`^Usage: dynamo-session ${command} .*\\[options\\]`))
      assert.deepEqual(await cli(['help', command]), own)
    }
    assert.match((await cli(['create-table', '--help'])).stdout, /UpdateTimeToLive/)
    assert.match((await cli(['create-table', '--help'])).stdout, /DescribeTimeToLive/)
    assert.match((await cli(['sweep', '--help'])).stdout, /conditional DeleteItem/)
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
    [['sweep', '--table'], /--table needs a value: --table <name>/],
    [['sweep', '--table', '--region', 'x'], /--table needs a value/],
    [['sweep', '--table='], /--table needs a value/],
    [['sweep', '--help=yes'], /--help takes no value/],
    [['sweeep'], /unknown command "sweeep" \(did you mean sweep\?\)/],
    [
      ['create-table', '--table', 'ab'],
      /^dynamo-session: --table must be a DynamoDB table name .*, got "ab"\n/,
    ],
    [
      ['sweep', '--region', 'us east 1'],
      /^dynamo-session: --region must be an AWS region .*, got "us east 1"\n/,
    ],
    [['sweep', 'extra'], /unexpected argument "extra"/],
    [['create-table', '--endpoint', 'localhost:8000'], /--endpoint must be an http\(s\) URL/],
    [['help', 'nope'], /unknown command "nope"/],
    [
      ['create-table', '--regions', 'us-east-1,us-east-1'],
      /^dynamo-session: --regions must be a list of distinct AWS regions .*: us-east-1,us-east-1\n/,
    ],
    [['sweep', '--regions', 'us-east-1'], /--regions is an option of create-table, not of sweep/],
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

describe('dynamo-session unknown flags: the valid ones, and the closest one when close', {
  concurrency: 4,
}, () => {
  const VALID =
    'Valid options: --table <name>, --region <region>, --endpoint <url>, --regions <a,b,c>, --user <id>, --except <handle>, --json, -h, --help, -v, --version'
  for (const [flag, guess] of [
    ['--tabel', '--table'],
    ['--regoin', '--region'],
    ['--Endpiont', '--endpoint'],
    ['--verison', '--version'],
    ['--frobnicate', undefined],
    ['-x', undefined],
  ] as const) {
    test(`dynamo-session sweep ${flag} x${guess ? `: did you mean ${guess}?` : ''}`, async () => {
      const { code, stdout, stderr } = await cli(['sweep', flag, 'x'], awsEnv())
      assert.equal(code, 2)
      assert.equal(stdout, '')
      assert.equal(
        stderr,
        `dynamo-session: unknown option ${flag}${guess ? ` (did you mean ${guess}?)` : ''}\n${VALID}\nRun "dynamo-session --help" for the commands and options.\n`,
      )
    })
  }
})

describe('dynamo-session malformed values from the environment exit with 2, naming the variable', {
  concurrency: 4,
}, () => {
  for (const [name, value, allowed] of [
    ['AWS_REGION', 'us east 1', "an AWS region such as 'eu-west-1'"],
    ['SESSION_TABLE', 'ab', 'a DynamoDB table name (3 to 255 of a-z A-Z 0-9 _ . -)'],
    ['AWS_ENDPOINT_URL_DYNAMODB', 'localhost:8000', 'an http(s) URL'],
  ] as const) {
    test(`${name}="${value}"`, async () => {
      const { code, stdout, stderr } = await cli(['create-table'], { ...awsEnv(), [name]: value })
      assert.equal(code, 2)
      assert.equal(stdout, '')
      assert.ok(
        stderr.startsWith(
          `dynamo-session: the environment variable ${name} must be ${allowed}, got "${value}"\n`,
        ),
        stderr,
      )
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

  test('--regions against DynamoDB Local: a table in each region (one, with -sharedDb)', async () => {
    const table = uniqueTable('cli-regions')
    // No AWS_REGION: --regions names where the table goes.
    const env = Object.fromEntries(
      Object.entries({ ...awsEnv(), SESSION_TABLE: table }).filter(([k]) => k !== 'AWS_REGION'),
    )
    const first = await cli(['create-table', '--regions', 'eu-west-1,us-east-1'], env)
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, new RegExp(`Created table "${table}"`))
    assert.doesNotMatch(first.stdout, /replicas/, 'no replicas outside AWS')
    const described = await ddb('DescribeTable', { TableName: table })
    assert.equal(described.Table.TableStatus, 'ACTIVE')
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
    await tableWithoutTtl(table)
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
    await tableWithoutTtl(table)
    await seedSessions(table, 5, 2)
    // script(1) runs the command on a pseudo-terminal, as an interactive shell would.
    const command = [process.execPath, ...NODE_CLI, 'sweep', '--table', table].join(' ')
    const { code, stdout } = await run('script', ['-qec', command, '/dev/null'], awsEnv())
    assert.equal(code, 0, stdout)
    assert.ok(stdout.includes('\r\x1b[Kscanned 5 items, deleted '), JSON.stringify(stdout))
    assert.match(stdout, /Deleted 2 expired sessions/)
  })

  test('runs under Bun too', async () => {
    const table = uniqueTable('cli-bun')
    await tableWithoutTtl(table)
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

  test('Ctrl-C prints the counts so far and exits with 130', async () => {
    const table = uniqueTable('cli-sigint')
    await tableWithoutTtl(table)
    await seedSessions(table, 30, 30)
    const proxy = await holdingProxy(5)
    try {
      const child = startProcess(
        process.execPath,
        [...NODE_CLI, 'sweep', '--table', table, '--endpoint', proxy.url],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...awsEnv() },
        },
      )
      // Every delete worker waits on the proxy: the 5 answered deletes are all counted by now.
      await proxy.waitForHeld(DELETE_CONCURRENCY)
      process.kill(child.pid, 'SIGINT')
      assert.equal(await child.exited, 130)
      assert.equal(child.stdout(), '')
      assert.equal(
        child.stderr(),
        `dynamo-session: interrupted: deleted 5 expired sessions from table "${table}" so far (scanned 30 items, kept 0); deletes already sent may still apply.\n`,
      )
    } finally {
      proxy.close()
    }
    const { Count } = await ddb('Scan', { TableName: table, Select: 'COUNT' })
    assert.equal(Count, 25)
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
    // The fix, through the scoped package name (a bare `npx dynamo-session` is another package).
    assert.ok(
      stderr.includes(`npx @dynamo-session/hono create-table --table ${table} --region us-east-1`),
      stderr,
    )
  })

  test('an existing table with another key: exit 7, naming its key', async () => {
    const table = uniqueTable('cli-key')
    await ddb('CreateTable', {
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'user', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'user', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    })
    const { code, stdout, stderr } = await cli(['create-table', '--table', table], awsEnv())
    assert.equal(code, 7)
    assert.equal(stdout, '')
    assert.match(
      stderr,
      new RegExp(`^dynamo-session: table "${table}" exists with the key user \\(S, HASH\\)`),
    )
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
