#!/usr/bin/env node
/**
 * @module The `dynamo-session` command: creates the session table and sweeps expired sessions.
 * The one file of the package that uses Node built-ins; a Worker never imports it.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { DynamoSessionError } from './errors.ts'
import { createSessionTable, sweepExpiredSessions, type TableToolOptions } from './table.ts'

/** Exit codes, one per kind of failure, so scripts can tell them apart. */
const EXIT = {
  ok: 0,
  /** any other error DynamoDB answered with */
  failed: 1,
  /** unknown command or option, missing or bad option value */
  usage: 2,
  /** no region or no credentials */
  config: 3,
  /** the table does not exist */
  noTable: 4,
  /** DynamoDB could not be reached: connection refused, timeout, throttled, 5xx */
  unreachable: 5,
  /** DynamoDB refused the credentials or the IAM policy */
  denied: 6,
} as const

const CONNECTION = `Options:
  --table <name>      the session table     env SESSION_TABLE, default "sessions"
  --region <region>   the AWS region        env AWS_REGION, AWS_DEFAULT_REGION
  --endpoint <url>    the DynamoDB URL      env AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL,
                                            default https://dynamodb.<region>.amazonaws.com
  -h, --help          show this help

Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN only:
flags would show them to every user of the machine. DynamoDB Local takes any values.`

const EXIT_CODES = `Exit codes:
  0 done                      4 the table does not exist
  1 other DynamoDB error      5 DynamoDB unreachable (refused, timeout, throttled)
  2 bad usage                 6 access denied (credentials or IAM policy)
  3 no region or no credentials`

const HELP: Record<'main' | 'create-table' | 'sweep', string> = {
  main: `Usage: dynamo-session <command> [options]

Sets up and maintains the DynamoDB table of @dynamo-session/hono.

Commands:
  create-table   create the session table (on-demand, key "id") with TTL on "expires"
  sweep          delete expired sessions now (DynamoDB Local has no TTL deletion, AWS's lags)
  help [command] show the help of a command

${CONNECTION}
  -v, --version       show the version

${EXIT_CODES}

Examples:
  npx dynamo-session create-table --table sessions --region eu-west-1
  AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 npx dynamo-session sweep --region us-east-1`,
  'create-table': `Usage: dynamo-session create-table [options]

Creates the table with on-demand billing and a string hash key "id", waits until it is
ACTIVE, and turns on TTL on the "expires" attribute. An existing table is fine: running it
again changes nothing. IAM: dynamodb:CreateTable, DescribeTable, UpdateTimeToLive.

${CONNECTION}

${EXIT_CODES}`,
  sweep: `Usage: dynamo-session sweep [options]

Deletes the sessions whose "expires" is in the past: a Scan page by page, then
BatchWriteItem in groups of 25. For DynamoDB Local, which never deletes by TTL, and for
tables where AWS's TTL deletion lags. Prints the count; on a terminal, also a progress line.
IAM: dynamodb:Scan, BatchWriteItem.

${CONNECTION}

${EXIT_CODES}`,
}

const COMMANDS = new Set(['create-table', 'sweep'])

function version(): string {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version
  } catch {
    return 'unknown'
  }
}

/** The socket error under the library's error: fetch implementations nest it as a `cause`. */
function rootCause(error: unknown): string {
  let current = error as { cause?: unknown; code?: unknown; message?: unknown } | undefined
  let found = String(error)
  for (let depth = 0; current && depth < 8; depth++) {
    if (current !== error) {
      found = [current.code, current.message].filter((x) => typeof x === 'string').join(': ')
    }
    current = current.cause as typeof current
  }
  return found
}

function explain(error: unknown, endpoint: string | undefined): { code: number; message: string } {
  const e = error as DynamoSessionError
  switch (e?.name === 'DynamoSessionError' ? e.code : undefined) {
    case 'MISSING_CONFIG':
      return {
        code: EXIT.config,
        message: e.message
          .replace('pass the region option', 'pass --region')
          .replace('pass the credentials option or set', 'set'),
      }
    case 'TABLE_NOT_FOUND':
      return { code: EXIT.noTable, message: e.message }
    case 'ACCESS_DENIED':
      return { code: EXIT.denied, message: e.message }
    case 'NETWORK':
    case 'TIMEOUT':
    case 'UNAVAILABLE':
    case 'THROTTLED': {
      const root = rootCause(e)
      const refused = /ECONNREFUSED|ConnectionRefused|connection refused/i.test(root)
      const where = endpoint ?? "the region's endpoint"
      return {
        code: EXIT.unreachable,
        message: refused
          ? `cannot reach DynamoDB at ${where}: connection refused. Is DynamoDB Local running there? Check --endpoint and AWS_ENDPOINT_URL_DYNAMODB.`
          : `${e.message}${e.code === 'NETWORK' && !e.message.includes(root) ? ` (${root})` : ''}`,
      }
    }
    default:
      return { code: EXIT.failed, message: (error as Error)?.message ?? String(error) }
  }
}

/** Runs the command line `args` and returns the exit code. */
async function main(
  args: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let command: string | undefined
  let options: TableToolOptions
  try {
    const parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        table: { type: 'string' },
        region: { type: 'string' },
        endpoint: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    })
    const { values, positionals } = parsed
    if (values.version) {
      process.stdout.write(`${version()}\n`)
      return EXIT.ok
    }
    command = positionals[0]
    if (command === 'help' || values.help) {
      const topic = command === 'help' ? positionals[1] : command
      if (topic !== undefined && !COMMANDS.has(topic)) throw new Error(`unknown command "${topic}"`)
      process.stdout.write(`${HELP[(topic ?? 'main') as keyof typeof HELP]}\n`)
      return EXIT.ok
    }
    if (command === undefined) throw new Error('no command given')
    if (!COMMANDS.has(command)) throw new Error(`unknown command "${command}"`)
    if (positionals.length > 1) throw new Error(`unexpected argument "${positionals[1]}"`)
    for (const name of ['table', 'region', 'endpoint'] as const) {
      if (values[name] === '') throw new Error(`--${name} needs a value`)
    }
    if (values.endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(values.endpoint)) {
      throw new Error(`--endpoint must be an http(s) URL, got "${values.endpoint}"`)
    }
    options = {
      table: values.table,
      region: values.region,
      endpoint: values.endpoint,
      env,
      // Short enough that a wrong endpoint fails within seconds, long enough for a 1 MB Scan page.
      retry: { attempts: 3, timeoutMs: 10_000, budgetMs: 30_000 },
    }
  } catch (error) {
    const message = (error as Error).message
    process.stderr.write(
      `dynamo-session: ${message}\nRun "dynamo-session --help" for the commands and options.\n`,
    )
    return EXIT.usage
  }

  const endpoint =
    options.endpoint ?? (env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined)
  try {
    if (command === 'create-table') {
      const { created, table } = await createSessionTable(options)
      process.stdout.write(
        created
          ? `Created table "${table}" (on-demand, key "id") with TTL on "expires".\n`
          : `Table "${table}" already exists; TTL on "expires" is enabled.\n`,
      )
    } else {
      const tty = process.stderr.isTTY === true
      let scanned = 0
      const deleted = await sweepExpiredSessions({
        ...options,
        onProgress: (p) => {
          scanned = p.scanned
          if (tty) process.stderr.write(`\r\x1b[Kscanned ${p.scanned} items, deleted ${p.deleted}`)
        },
      })
      if (tty) process.stderr.write('\r\x1b[K')
      const table = options.table ?? (env.SESSION_TABLE || 'sessions')
      process.stdout.write(
        `Deleted ${deleted} expired session${deleted === 1 ? '' : 's'} from table "${table}" (scanned ${scanned} items).\n`,
      )
    }
    return EXIT.ok
  } catch (error) {
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K')
    const { code, message } = explain(error, endpoint)
    process.stderr.write(`dynamo-session: ${message}\n`)
    return code
  }
}

process.exitCode = await main(process.argv.slice(2))
