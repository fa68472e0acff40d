#!/usr/bin/env node
/**
 * @module The `dynamo-session` command: creates the session table, sweeps expired sessions, and
 * lists and revokes a user's sessions. The one file of the package that uses Node built-ins; a
 * Worker never imports it.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import {
  COMMAND_FLAGS,
  COMMANDS,
  type Command,
  EXIT,
  FLAG_LIST,
  FLAGS,
  type Flag,
  HELP,
  type Values,
} from './cli/commands.ts'
import { fromEnv } from './connection.ts'
import type { DynamoSessionError } from './errors.ts'
import { closest, problemOf } from './settings.ts'
import {
  type CreateTableOptions,
  createSessionTable,
  type SweepCounts,
  sweepExpiredSessions,
} from './table.ts'
import { listSessions, revokeSessions, type SessionInfo } from './users.ts'

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
    `unknown command "${command}"${guess ? ` (did you mean ${guess}?)` : ''}\nCommands: ${COMMANDS.join(', ')}`,
  )
}

/** Flags and positionals of the command line; every mistake is a UsageError saying what to type. */
function parse(args: string[]): { values: Values; positionals: string[] } {
  // Not strict: Node's own messages for unknown flags are cryptic; these are checked below.
  const { tokens } = parseArgs({
    args,
    options: FLAGS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  const values: Values = {}
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
    case 'INDEX_NOT_FOUND':
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
function checkConnection(values: Values, env: Record<string, string | undefined>): void {
  for (const name of ['table', 'region', 'endpoint'] as const) {
    const flag = values[name]
    const variable = flag === undefined ? fromEnv(name, env)?.variable : undefined
    const problem = problemOf(name, flag ?? (variable && env[variable]))
    if (flag !== undefined && problem) throw new UsageError(`--${name} ${problem}`)
    if (variable && problem) throw new UsageError(`the environment variable ${variable} ${problem}`)
  }
}

/** Refuses a flag the command does not take, and a user command without a well-formed --user. */
function checkCommandFlags(command: Command, values: Values): void {
  const own: readonly Flag[] = COMMAND_FLAGS[command]
  for (const [name, takers] of Object.entries(COMMAND_FLAGS)) {
    for (const flag of takers as readonly Flag[]) {
      if (values[flag] !== undefined && !own.includes(flag)) {
        const by = Object.keys(COMMAND_FLAGS).filter((c) =>
          (COMMAND_FLAGS[c as Command] as readonly Flag[]).includes(flag),
        )
        throw new UsageError(`--${flag} is an option of ${by.join(' and ')}, not of ${command}`)
      }
      if (name === command && flag === 'user' && values.user === undefined) {
        throw new UsageError(`${command} needs --user <id>`)
      }
    }
  }
  for (const [flag, option] of [
    ['user', 'userId'],
    ['except', 'except'],
  ] as const) {
    const problem = values[flag] !== undefined && problemOf(option, values[flag])
    if (problem) throw new UsageError(`--${flag} ${problem}`)
  }
}

/** A user's sessions as a table for a terminal: handle, times (UTC, to the second), device. */
function sessionsTable(sessions: SessionInfo[], whose: string): string {
  if (!sessions.length) return `No live sessions of ${whose}.`
  const time = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`
  const rows = sessions.map((s) => [
    s.handle,
    time(s.created),
    time(s.expires),
    s.device === undefined
      ? '-'
      : typeof s.device === 'string'
        ? s.device
        : JSON.stringify(s.device),
  ])
  const head = ['HANDLE', 'CREATED', 'EXPIRES', 'DEVICE']
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (r: string[]) =>
    r.map((cell, i) => (i < r.length - 1 ? cell.padEnd(width[i]) : cell)).join('  ')
  const n = sessions.length
  return [
    `${n} live session${n === 1 ? '' : 's'} of ${whose}, newest first:`,
    line(head),
    ...rows.map(line),
  ].join('\n')
}

const HINT = 'Run "dynamo-session --help" for the commands and options.'

/**
 * AWS's commercial regions (partition `aws`), as the AWS SDK for JavaScript 3.981 lists them,
 * then GovCloud's and China's. Only for a warning: AWS adds regions, so an unknown one is used.
 */
const AWS_REGIONS = `
  af-south-1 ap-east-1 ap-east-2 ap-northeast-1 ap-northeast-2 ap-northeast-3 ap-south-1
  ap-south-2 ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-southeast-5
  ap-southeast-6 ap-southeast-7 ca-central-1 ca-west-1 eu-central-1 eu-central-2 eu-north-1
  eu-south-1 eu-south-2 eu-west-1 eu-west-2 eu-west-3 il-central-1 me-central-1 me-south-1
  me-west-1 mx-central-1 sa-east-1 sa-west-1 us-east-1 us-east-2 us-west-1 us-west-2
  us-gov-east-1 us-gov-west-1 cn-north-1 cn-northwest-1
`
  .trim()
  .split(/\s+/)

/** A warning for a well-formed region AWS does not list (a typo, most likely), else undefined. */
function regionWarning(region: string | undefined): string | undefined {
  // A malformed region is the library's to refuse, with the flag or variable it came from.
  if (!region || problemOf('region', region) || AWS_REGIONS.includes(region)) return undefined
  const guess = closest(region, AWS_REGIONS)
  return `warning: "${region}" is not one of the AWS regions this version knows${guess ? ` (did you mean ${guess}?)` : ''}; using it as given.`
}

/** Runs the command line `args` and returns the exit code. */
/** What a command runs with, once its command line is checked. */
interface Invocation {
  command: Command
  options: CreateTableOptions
  values: Values
  /** The table, as the options or the environment name it. */
  table: string
}

/**
 * Reads the command line: prints the version or a help and returns the exit code, or returns
 * what the command needs; every mistake is a UsageError.
 */
function commandLine(args: string[], env: Record<string, string | undefined>): Invocation | number {
  const { values, positionals } = parse(args)
  if (values.version) {
    process.stdout.write(`${version()}\n`)
    return EXIT.ok
  }
  const command = positionals[0]
  if (command === 'help' || values.help) {
    const topic = command === 'help' ? positionals[1] : command
    if (topic !== undefined && !(topic in HELP && topic !== 'main')) throw unknownCommand(topic)
    process.stdout.write(`${HELP[(topic ?? 'main') as keyof typeof HELP]}\n`)
    return EXIT.ok
  }
  if (command === undefined) throw new UsageError('no command given')
  if (!(command in HELP && command !== 'main')) throw unknownCommand(command)
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`)
  checkCommandFlags(command as Command, values)
  checkConnection(values, env)
  const regions = values.regions === undefined ? undefined : String(values.regions).split(',')
  const problem = regions && problemOf('regions', regions)
  if (problem) throw new UsageError(`--regions ${problem}: ${values.regions}`)
  const options: CreateTableOptions = {
    table: values.table as string | undefined,
    region: values.region as string | undefined,
    endpoint: values.endpoint as string | undefined,
    env,
    ...(regions && { regions }),
    // Short enough that a wrong endpoint fails within seconds, long enough for a 1 MB Scan page.
    retry: { attempts: 3, timeoutMs: 10_000, budgetMs: 30_000 },
  }
  const table = options.table ?? fromEnv('table', env)?.value ?? 'sessions'
  return { command: command as Command, options, values, table }
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`

/** The sweep, with a progress line on a terminal; `counts` sees the counts so far. */
async function sweep(run: Invocation, tty: boolean, counts: (now: SweepCounts) => void) {
  let shown = 0
  const { scanned, deleted, kept } = await sweepExpiredSessions({
    ...run.options,
    onProgress: (now) => {
      counts(now)
      if (tty && Date.now() - shown >= 100) {
        shown = Date.now()
        process.stderr.write(
          `\r\x1b[Kscanned ${now.scanned} items, deleted ${now.deleted}, kept ${now.kept}`,
        )
      }
    },
  })
  if (tty) process.stderr.write('\r\x1b[K')
  return `Deleted ${plural(deleted, 'expired session')} from table "${run.table}" (scanned ${scanned} items${kept ? `, kept ${kept} extended or removed since the scan` : ''}).`
}

/** Runs a checked command; returns what it prints. */
async function execute(run: Invocation, tty: boolean, counts: (now: SweepCounts) => void) {
  const { command, options, values, table } = run
  const userId = values.user as string
  const except = values.except as string | undefined
  if (command === 'create-table') {
    const { created, indexAdded, replicasAdded } = await createSessionTable(options)
    const replicas = replicasAdded?.length ? ` Added replicas in ${replicasAdded.join(', ')}.` : ''
    return `${
      created
        ? `Created table "${table}" (on-demand, key "id") with TTL on "expires" and the user index.`
        : `Table "${table}" already exists; TTL on "expires" is enabled; ${indexAdded ? 'added the user index.' : 'the user index is there.'}`
    }${replicas}`
  }
  if (command === 'sweep') return sweep(run, tty, counts)
  if (command === 'sessions') {
    const sessions = await listSessions({ ...options, userId })
    return values.json
      ? JSON.stringify(sessions, null, 2)
      : sessionsTable(sessions, `user "${userId}" in table "${table}"`)
  }
  const { revoked } = await revokeSessions({ ...options, userId, except })
  return `Revoked ${plural(revoked, 'session')} of user "${userId}" in table "${table}"${except ? `; kept ${except}` : ''}.`
}

/** What Ctrl-C prints, for each command. */
function interrupted(run: Invocation, counts: SweepCounts): string {
  switch (run.command) {
    case 'sweep':
      return `interrupted: deleted ${plural(counts.deleted, 'expired session')} from table "${run.table}" so far (scanned ${counts.scanned} items, kept ${counts.kept}); deletes already sent may still apply.`
    case 'revoke':
      return 'interrupted: the sessions revoked so far stay revoked; run revoke again to revoke the rest.'
    case 'create-table':
      return 'interrupted; run create-table again to check the table.'
    default:
      return 'interrupted.'
  }
}

/** Runs the command line `args` and returns the exit code. */
async function main(
  args: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let run: Invocation | number
  try {
    run = commandLine(args, env)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`dynamo-session: ${error.message}\n${HINT}\n`)
    return EXIT.usage
  }
  if (typeof run === 'number') return run
  const invocation = run
  const warning = regionWarning(run.options.region ?? fromEnv('region', env)?.value)
  if (warning) process.stderr.write(`dynamo-session: ${warning}\n`)
  const tty = process.stderr.isTTY === true
  let counts: SweepCounts = { scanned: 0, deleted: 0, kept: 0 }
  process.once('SIGINT', () => {
    if (tty) process.stderr.write('\r\x1b[K')
    process.stderr.write(`dynamo-session: ${interrupted(invocation, counts)}\n`)
    process.exit(EXIT.interrupted)
  })
  try {
    const out = await execute(run, tty, (now) => {
      counts = now
    })
    process.stdout.write(`${out}\n`)
    return EXIT.ok
  } catch (error) {
    if (tty) process.stderr.write('\r\x1b[K')
    const endpoint = run.options.endpoint ?? fromEnv('endpoint', env)?.value
    const { code, message } = explain(error, endpoint)
    process.stderr.write(`dynamo-session: ${message}\n`)
    return code
  }
}

process.exitCode = await main(process.argv.slice(2))
