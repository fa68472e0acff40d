#!/usr/bin/env node
/**
 * @module The `dynamo-session` command: creates the session table and sweeps expired sessions.
 * The one file of the package that uses Node built-ins; a Worker never imports it.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ENVIRONMENT, fromEnv } from './connection.ts'
import type { DynamoSessionError } from './errors.ts'
import { closest, problemOf } from './settings.ts'
import {
  createSessionTable,
  DELETE_CONCURRENCY,
  type SweepCounts,
  sweepExpiredSessions,
  type TableToolOptions,
} from './table.ts'

/** Exit codes, one per kind of failure, so scripts can tell them apart. */
const EXIT = {
  ok: 0,
  /** any other error DynamoDB answered with */
  failed: 1,
  /** unknown command or option, missing or malformed value (flag or environment variable) */
  usage: 2,
  /** no region or no credentials */
  config: 3,
  /** the table does not exist */
  noTable: 4,
  /** DynamoDB could not be reached: connection refused, timeout, throttled, 5xx */
  unreachable: 5,
  /** DynamoDB refused the credentials or the IAM policy */
  denied: 6,
  /** the table exists with another key schema, or with TTL on another attribute */
  schema: 7,
  /** interrupted by Ctrl-C (SIGINT): 128 + 2, as shells report it */
  interrupted: 130,
} as const

/** The flags, as parseArgs takes them, with the placeholder of their value. */
const FLAGS = {
  table: { type: 'string', value: '<name>' },
  region: { type: 'string', value: '<region>' },
  endpoint: { type: 'string', value: '<url>' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const
type Flag = keyof typeof FLAGS

const FLAG_LIST = (Object.keys(FLAGS) as Flag[])
  .map((name) => {
    const flag: { short?: string; value?: string } = FLAGS[name]
    return `${flag.short ? `-${flag.short}, ` : ''}--${name}${flag.value ? ` ${flag.value}` : ''}`
  })
  .join(', ')

const OPTIONS = `Options:
  --table <name>      the session table     env ${ENVIRONMENT.table.join(', ')}, default "sessions"
  --region <region>   the AWS region        env ${ENVIRONMENT.region.join(', ')}
  --endpoint <url>    the DynamoDB URL      env ${ENVIRONMENT.endpoint.join(', ')},
                                            default https://dynamodb.<region>.amazonaws.com
  -h, --help          show this help
  -v, --version       show the version

Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN only:
flags would show them to every user of the machine. DynamoDB Local takes any values.`

const EXIT_CODES = `Exit codes:
  0 done                           5 DynamoDB unreachable (refused, timeout, throttled)
  1 other DynamoDB error           6 access denied (credentials or IAM policy)
  2 bad usage or malformed value   7 the table has another key schema or TTL attribute
  3 no region or no credentials    130 interrupted (Ctrl-C)
  4 the table does not exist`

const HELP: Record<'main' | 'create-table' | 'sweep', string> = {
  main: `Usage: dynamo-session <command> [options]

Sets up and maintains the DynamoDB table of @dynamo-session/hono.

Commands:
  create-table   create the session table (on-demand, key "id") with TTL on "expires"
  sweep          delete expired sessions now (for DynamoDB Local, or where TTL deletion lags)
  help [command] show the help of a command

${OPTIONS}

${EXIT_CODES}

Examples:
  npx @dynamo-session/hono create-table --table sessions --region eu-west-1
  AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 npx @dynamo-session/hono sweep --region us-east-1`,
  'create-table': `Usage: dynamo-session create-table [options]

Creates the table with on-demand billing and a string hash key "id", waits until it is
ACTIVE, and turns on TTL on the "expires" attribute. An existing table is fine when its key
is "id" (string) alone and its TTL, if on, is on "expires": running it again changes nothing.
Any other key schema or TTL attribute is an error (exit 7) saying what differs.
IAM: dynamodb:CreateTable, DescribeTable, DescribeTimeToLive, UpdateTimeToLive.

${OPTIONS}

${EXIT_CODES}`,
  sweep: `Usage: dynamo-session sweep [options]

Deletes the sessions whose "expires" is in the past: a Scan page by page, then one
conditional DeleteItem per expired item, ${DELETE_CONCURRENCY} at a time. A delete applies only if the item is
still expired, so a session extended after the Scan is kept. Prints the counts; on a
terminal, also a progress line. Ctrl-C prints the counts so far and exits with 130.
IAM: dynamodb:Scan, DeleteItem.

${OPTIONS}

${EXIT_CODES}`,
}

const COMMANDS = ['create-table', 'sweep', 'help']

class UsageError extends Error {}

function version(): string {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version
  } catch {
    return 'unknown'
  }
}

function unknownOption(raw: string): UsageError {
  const name = raw.replace(/^-+/, '')
  const guess = raw.startsWith('--') ? closest(name, Object.keys(FLAGS)) : undefined
  return new UsageError(
    `unknown option ${raw}${guess ? ` (did you mean --${guess}?)` : ''}\nValid options: ${FLAG_LIST}`,
  )
}

function unknownCommand(command: string): UsageError {
  const guess = closest(command, COMMANDS)
  return new UsageError(
    `unknown command "${command}"${guess ? ` (did you mean ${guess}?)` : ''}\nCommands: create-table, sweep, help`,
  )
}

/** Flags and positionals of the command line; every mistake is a UsageError saying what to type. */
function parse(args: string[]): {
  values: Partial<Record<Flag, string | true>>
  positionals: string[]
} {
  // Not strict: Node's own messages for unknown flags are cryptic; these are checked below.
  const { tokens } = parseArgs({
    args,
    options: FLAGS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  const values: Partial<Record<Flag, string | true>> = {}
  const positionals: string[] = []
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value)
    if (token.kind !== 'option') continue
    const name = token.name as Flag
    if (!Object.hasOwn(FLAGS, name)) throw unknownOption(token.rawName)
    if (FLAGS[name].type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`)
      values[name] = true
    } else if (!token.value || (!token.inlineValue && token.value.startsWith('-'))) {
      throw new UsageError(`--${name} needs a value: --${name} ${FLAGS[name].value}`)
    } else values[name] = token.value
  }
  return { values, positionals }
}

/** The socket error code under a failed call (`ECONNREFUSED`…): fetch nests it as a `cause`. */
function socketCode(error: unknown): string | undefined {
  let current = error as { cause?: unknown; code?: unknown } | undefined
  for (let depth = 0; current && depth < 8; depth++) {
    if (current !== error && typeof current.code === 'string') return current.code
    current = current.cause as typeof current
  }
}

/** The missing setting a MISSING_CONFIG error names, said with this command's flags. */
const MISSING: Record<string, string> = {
  region: 'No AWS region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)',
  credentials: 'No AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
}

function explain(error: unknown, endpoint: string | undefined): { code: number; message: string } {
  const e = error as DynamoSessionError
  switch (e?.name === 'DynamoSessionError' ? e.code : undefined) {
    case 'MISSING_CONFIG':
      return { code: EXIT.config, message: MISSING[e.option ?? ''] ?? e.message }
    case 'KEY_SCHEMA':
      return { code: EXIT.schema, message: e.message }
    case 'TABLE_NOT_FOUND':
      return { code: EXIT.noTable, message: e.message }
    case 'ACCESS_DENIED':
      return { code: EXIT.denied, message: e.message }
    case 'NETWORK':
    case 'TIMEOUT':
    case 'UNAVAILABLE':
    case 'THROTTLED':
      return {
        code: EXIT.unreachable,
        message: /REFUSED/i.test(socketCode(e) ?? '')
          ? `cannot reach DynamoDB at ${endpoint ?? "the region's endpoint"}: connection refused. Is DynamoDB Local running there? Check --endpoint and AWS_ENDPOINT_URL_DYNAMODB.`
          : e.message,
      }
    default:
      return { code: EXIT.failed, message: (error as Error)?.message ?? String(error) }
  }
}

/** Checks the connection flags and the variables that stand in for them, naming each as typed. */
function checkConnection(
  values: Partial<Record<Flag, string | true>>,
  env: Record<string, string | undefined>,
): void {
  for (const name of ['table', 'region', 'endpoint'] as const) {
    const flag = values[name]
    const variable = flag === undefined ? fromEnv(name, env)?.variable : undefined
    const problem = problemOf(name, flag ?? (variable && env[variable]))
    if (flag !== undefined && problem) throw new UsageError(`--${name} ${problem}`)
    if (variable && problem) throw new UsageError(`the environment variable ${variable} ${problem}`)
  }
}

const HINT = 'Run "dynamo-session --help" for the commands and options.'

/**
 * AWS's commercial regions (partition `aws`), as the AWS SDK for JavaScript 3.981 lists them,
 * then GovCloud's and China's. Only for a warning: AWS adds regions, so an unknown one is used.
 */
const AWS_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'me-west-1',
  'mx-central-1',
  'sa-east-1',
  'sa-west-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'us-gov-east-1',
  'us-gov-west-1',
  'cn-north-1',
  'cn-northwest-1',
]

/** A warning for a well-formed region AWS does not list (a typo, most likely), else undefined. */
function regionWarning(region: string | undefined): string | undefined {
  // A malformed region is the library's to refuse, with the flag or variable it came from.
  if (!region || problemOf('region', region) || AWS_REGIONS.includes(region)) return undefined
  const guess = closest(region, AWS_REGIONS)
  return `warning: "${region}" is not one of the AWS regions this version knows${guess ? ` (did you mean ${guess}?)` : ''}; using it as given.`
}

/** Runs the command line `args` and returns the exit code. */
async function main(
  args: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let command: string | undefined
  let options: TableToolOptions
  try {
    const { values, positionals } = parse(args)
    if (values.version) {
      process.stdout.write(`${version()}\n`)
      return EXIT.ok
    }
    command = positionals[0]
    if (command === 'help' || values.help) {
      const topic = command === 'help' ? positionals[1] : command
      if (topic !== undefined && !(topic in HELP && topic !== 'main')) throw unknownCommand(topic)
      process.stdout.write(`${HELP[(topic ?? 'main') as keyof typeof HELP]}\n`)
      return EXIT.ok
    }
    if (command === undefined) throw new UsageError('no command given')
    if (!(command in HELP && command !== 'main')) throw unknownCommand(command)
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`)
    checkConnection(values, env)
    options = {
      table: values.table as string | undefined,
      region: values.region as string | undefined,
      endpoint: values.endpoint as string | undefined,
      env,
      // Short enough that a wrong endpoint fails within seconds, long enough for a 1 MB Scan page.
      retry: { attempts: 3, timeoutMs: 10_000, budgetMs: 30_000 },
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`dynamo-session: ${error.message}\n${HINT}\n`)
    return EXIT.usage
  }

  const endpoint = options.endpoint ?? fromEnv('endpoint', env)?.value
  const warning = regionWarning(options.region ?? fromEnv('region', env)?.value)
  if (warning) process.stderr.write(`dynamo-session: ${warning}\n`)
  const table = options.table ?? fromEnv('table', env)?.value ?? 'sessions'
  const tty = process.stderr.isTTY === true
  let counts: SweepCounts = { scanned: 0, deleted: 0, kept: 0 }
  const plural = (n: number) => `${n} expired session${n === 1 ? '' : 's'}`
  process.once('SIGINT', () => {
    if (tty) process.stderr.write('\r\x1b[K')
    process.stderr.write(
      command === 'sweep'
        ? `dynamo-session: interrupted: deleted ${plural(counts.deleted)} from table "${table}" so far (scanned ${counts.scanned} items, kept ${counts.kept}); deletes already sent may still apply.\n`
        : 'dynamo-session: interrupted; run create-table again to check the table.\n',
    )
    process.exit(EXIT.interrupted)
  })
  try {
    if (command === 'create-table') {
      const { created } = await createSessionTable(options)
      process.stdout.write(
        created
          ? `Created table "${table}" (on-demand, key "id") with TTL on "expires".\n`
          : `Table "${table}" already exists; TTL on "expires" is enabled.\n`,
      )
    } else {
      let shown = 0
      counts = await sweepExpiredSessions({
        ...options,
        onProgress: (now) => {
          counts = now
          if (tty && Date.now() - shown >= 100) {
            shown = Date.now()
            process.stderr.write(
              `\r\x1b[Kscanned ${now.scanned} items, deleted ${now.deleted}, kept ${now.kept}`,
            )
          }
        },
      })
      if (tty) process.stderr.write('\r\x1b[K')
      const { scanned, deleted, kept } = counts
      process.stdout.write(
        `Deleted ${plural(deleted)} from table "${table}" (scanned ${scanned} items${kept ? `, kept ${kept} extended or removed since the scan` : ''}).\n`,
      )
    }
    return EXIT.ok
  } catch (error) {
    if (tty) process.stderr.write('\r\x1b[K')
    const { code, message } = explain(error, endpoint)
    process.stderr.write(`dynamo-session: ${message}\n`)
    return code
  }
}

process.exitCode = await main(process.argv.slice(2))
