// The user commands of the dynamo-session CLI: `sessions --user ID` lists a user's sessions,
// `revoke --user ID [--except HANDLE]` signs them out; usage mistakes exit with 2, a table
// without the user index with 4 and the command that adds it. Sessions are signed in through
// the real middleware, in this process; the CLI runs as a child process, as a user runs it.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { describe, test } from 'node:test'
import { testEndpoint } from '../support/backend.ts'
import { awsEnv, cli as runCli } from '../support/cli.ts'
import { ddb, freshTable } from '../support/dynamodb.ts'
import { Browser, dropTable, indexBuiltAfter, userApp } from '../support/users.ts'

const cli = (args: string[]) => runCli(args, awsEnv())

/** An HTTP proxy to the test DynamoDB that reports the user index built (`indexBuiltAfter`). */
async function builtAtOnceProxy() {
  const built = indexBuiltAfter(0)
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const answer = await built.fetch(testEndpoint(), {
      method: 'POST',
      headers: {
        'content-type': String(req.headers['content-type']),
        'x-amz-target': String(req.headers['x-amz-target']),
        authorization: String(req.headers.authorization),
      },
      body: Buffer.concat(chunks),
    })
    res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' })
    res.end(await answer.text())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  }
}

/** A table where ada is signed in from two browsers and grace from one. */
async function signedIn() {
  const conn = await freshTable('cli-users')
  const a = userApp(conn)
  const laptop = new Browser(a, 'Firefox on the laptop')
  const phone = new Browser(a, 'Safari on the phone')
  const grace = new Browser(a, 'Edge')
  const handles = { laptop: await laptop.login('ada'), phone: await phone.login('ada') }
  await grace.login('grace')
  return { table: conn.table, laptop, phone, grace, handles }
}

describe('dynamo-session sessions', { concurrency: 4 }, () => {
  test("lists a user's sessions, newest first, with their handles, times and devices", async () => {
    const { table, handles } = await signedIn()
    const { code, stdout, stderr } = await cli(['sessions', '--user', 'ada', '--table', table])
    assert.equal(code, 0, stderr)
    assert.equal(stderr, '')
    const lines = stdout.trimEnd().split('\n')
    assert.equal(lines[0], `2 live sessions of user "ada" in table "${table}", newest first:`)
    assert.match(lines[1], /^HANDLE {12}CREATED {15}EXPIRES {15}DEVICE$/)
    const rows = lines.slice(2).map((l) => l.split(/ {2,}/))
    assert.deepEqual(rows.map((r) => r[0]).sort(), [handles.laptop, handles.phone].sort())
    assert.deepEqual(rows.map((r) => r[3]).sort(), ['Firefox on the laptop', 'Safari on the phone'])
    for (const r of rows) assert.match(r[1], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/)
  })

  test('--json prints what listSessions() returns', async () => {
    const { table, handles } = await signedIn()
    const { code, stdout } = await cli(['sessions', '--user', 'grace', '--table', table, '--json'])
    assert.equal(code, 0)
    const sessions = JSON.parse(stdout)
    assert.equal(sessions.length, 1)
    assert.equal(sessions[0].device, 'Edge')
    assert.ok(sessions[0].expires > Date.now())
    assert.ok(!Object.values(handles).includes(sessions[0].handle))
  })

  test('a user without sessions: a line that says so, exit 0', async () => {
    const { table } = await signedIn()
    const { code, stdout } = await cli(['sessions', '--user', 'nobody', '--table', table])
    assert.equal(code, 0)
    assert.equal(stdout, `No live sessions of user "nobody" in table "${table}".\n`)
  })

  test('a table without the user index: exit 4, with the command that adds it', async () => {
    const table = `cli-noindex-${Date.now().toString(36)}`
    try {
      await ddb('CreateTable', {
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      })
      const { code, stdout, stderr } = await cli(['sessions', '--user', 'ada', '--table', table])
      assert.equal(code, 4)
      assert.equal(stdout, '')
      assert.ok(stderr.startsWith(`dynamo-session: table "${table}" has no index "user"`), stderr)
      assert.ok(stderr.includes(`npx @dynamo-session/hono create-table --table ${table}`), stderr)
      // DynamoDB Local builds the index in its own time (tests/support/users.ts): through a proxy that
      // reports it built, create-table adds it and says so.
      const proxy = await builtAtOnceProxy()
      try {
        const added = await cli(['create-table', '--table', table, '--endpoint', proxy.url])
        assert.equal(added.code, 0, added.stderr)
        assert.equal(
          added.stdout,
          `Table "${table}" already exists; TTL on "expires" is enabled; added the user index.\n`,
        )
      } finally {
        proxy.close()
      }
      const { Table } = await ddb('DescribeTable', { TableName: table })
      assert.deepEqual(
        Table.GlobalSecondaryIndexes.map((i: { IndexName: string }) => i.IndexName),
        ['user'],
      )
    } finally {
      await dropTable(table)
    }
  })
})

describe('dynamo-session revoke', { concurrency: 4 }, () => {
  test('--except keeps one session: the others are signed out, other users are not', async () => {
    const { table, laptop, phone, grace, handles } = await signedIn()
    const args = ['revoke', '--user', 'ada', '--except', handles.phone, '--table', table]
    const { code, stdout, stderr } = await cli(args)
    assert.equal(code, 0, stderr)
    assert.equal(
      stdout,
      `Revoked 1 session of user "ada" in table "${table}"; kept ${handles.phone}.\n`,
    )
    assert.equal(await laptop.user(), null)
    assert.equal(await phone.user(), 'ada')
    assert.equal(await grace.user(), 'grace')
  })

  test('without --except, every session of the user; a second run revokes none', async () => {
    const { table, laptop, phone } = await signedIn()
    const first = await cli(['revoke', '--user', 'ada', '--table', table])
    assert.equal(first.stdout, `Revoked 2 sessions of user "ada" in table "${table}".\n`)
    assert.equal(await laptop.user(), null)
    assert.equal(await phone.user(), null)
    const second = await cli(['revoke', '--user', 'ada', '--table', table])
    assert.equal(second.stdout, `Revoked 0 sessions of user "ada" in table "${table}".\n`)
    assert.equal(await laptop.login('ada'), (await laptop.me()).handle, 'signs in again at once')
  })
})

describe('dynamo-session user commands: usage errors exit with 2', { concurrency: 4 }, () => {
  for (const [args, message] of [
    [['sessions'], /^dynamo-session: sessions needs --user <id>\n/],
    [['revoke', '--except', 'abc'], /^dynamo-session: revoke needs --user <id>\n/],
    [['sessions', '--user'], /--user needs a value: --user <id>/],
    [['sessions', '--user='], /--user needs a value/],
    [
      ['revoke', '--user', 'u'.repeat(257)],
      /^dynamo-session: --user must be a non-empty string of at most 256 characters, got "u+"\n/,
    ],
    [
      ['sessions', '--user', 'ada', '--except', 'abc'],
      /^dynamo-session: --except is an option of revoke, not of sessions\n/,
    ],
    [
      ['revoke', '--user', 'ada', '--json'],
      /^dynamo-session: --json is an option of sessions, not of revoke\n/,
    ],
    [
      ['create-table', '--user', 'ada'],
      /^dynamo-session: --user is an option of sessions and revoke, not of create-table\n/,
    ],
    [['sesions', '--user', 'ada'], /unknown command "sesions" \(did you mean sessions\?\)/],
  ] as const) {
    test(`dynamo-session ${args.join(' ').slice(0, 60)}`, async () => {
      const { code, stdout, stderr } = await cli([...args])
      assert.equal(code, 2)
      assert.equal(stdout, '')
      assert.match(stderr, message)
      assert.match(stderr, /dynamo-session --help/)
    })
  }

  test('the help lists both commands, and each has its own', async () => {
    const { stdout } = await cli(['--help'])
    assert.match(stdout, /\n {2}sessions {7}list a user's live sessions: sessions --user <id>\n/)
    assert.match(stdout, /\n {2}revoke {9}sign a user out everywhere/)
    const revoke = await cli(['help', 'revoke'])
    assert.match(revoke.stdout, /^Usage: dynamo-session revoke --user <id> \[--except <handle>\]/)
    assert.match(revoke.stdout, /--except <handle> {3}keep this session signed in/)
    assert.match(
      (await cli(['sessions', '--help'])).stdout,
      /--json {14}print the sessions as JSON/,
    )
  })
})
