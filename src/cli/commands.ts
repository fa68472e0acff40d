/**
 * @module The grammar of the `dynamo-session` command: its commands, the flags each takes, the
 * exit codes, and the help texts. Text only; `src/cli.ts` reads the command line and runs it.
 */
import { ENVIRONMENT } from '../connection.ts'
import { DELETE_CONCURRENCY } from '../table.ts'

/** Exit codes, one per kind of failure, so scripts can tell them apart. */
export const EXIT = {
  ok: 0,
  /** any other error DynamoDB answered with */
  failed: 1,
  /** unknown command or option, missing or malformed value (flag or environment variable) */
  usage: 2,
  /** no region or no credentials */
  config: 3,
  /** the table, or its user index, does not exist */
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
export const FLAGS = {
  table: { type: 'string', value: '<name>' },
  region: { type: 'string', value: '<region>' },
  endpoint: { type: 'string', value: '<url>' },
  regions: { type: 'string', value: '<a,b,c>' },
  user: { type: 'string', value: '<id>' },
  except: { type: 'string', value: '<handle>' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const
export type Flag = keyof typeof FLAGS
export type Values = Partial<Record<Flag, string | true>>

/** The commands, and the flags each takes besides the connection's, --help and --version. */
export const COMMAND_FLAGS = {
  'create-table': ['regions'],
  sweep: [],
  sessions: ['user', 'json'],
  revoke: ['user', 'except'],
} as const satisfies Record<string, readonly Flag[]>
export type Command = keyof typeof COMMAND_FLAGS

export const FLAG_LIST = (Object.keys(FLAGS) as Flag[])
  .map((name) => {
    const flag = FLAGS[name] as { short?: string; value?: string }
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
  4 the table (or its user index) does not exist`

/** The options of the user commands. */
const USER_OPTIONS = `  --user <id>         the user id the app signed the sessions in with: regenerate({ userId })`

export const HELP: Record<'main' | Command, string> = {
  main: `Usage: dynamo-session <command> [options]

Sets up and maintains the DynamoDB table of @dynamo-session/hono.

Commands:
  create-table   create the session table (on-demand, key "id") with TTL on "expires" and
                 the user index; add the user index to a table that lacks it
  sweep          delete expired sessions now (for DynamoDB Local, or where TTL deletion lags)
  sessions       list a user's live sessions: sessions --user <id>
  revoke         sign a user out everywhere: revoke --user <id> [--except <handle>]
  help [command] show the help of a command

${OPTIONS}

${EXIT_CODES}

Examples:
  npx @dynamo-session/hono create-table --table sessions --region eu-west-1
  AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 npx @dynamo-session/hono sweep --region us-east-1
  npx @dynamo-session/hono revoke --user ada --region eu-west-1`,
  'create-table': `Usage: dynamo-session create-table [options]

Creates the table with on-demand billing, a string hash key "id" and the user index (a
sparse global secondary index "user" on "uid", sorted by "created", for the sessions and
revoke commands), waits until it is ACTIVE, and turns on TTL on the "expires" attribute.
An existing table is fine when its key is "id" (string) alone and its TTL, if on, is on
"expires": running it again changes nothing. One without the user index gets it, and the
command waits while DynamoDB builds it (on a large table, minutes; Ctrl-C stops waiting,
not the build). Any other key schema, TTL attribute or index "user" is an error (exit 7).
IAM: dynamodb:CreateTable, DescribeTable, UpdateTable, DescribeTimeToLive, UpdateTimeToLive.

  --regions <a,b,c>   a global table, for globalTable(): created in the first region
                      (--region is not used), with a stream of new and old images and a
                      replica in each other region, added one at a time (each takes
                      minutes); running it again adds the replicas still missing. Against
                      another endpoint (DynamoDB Local), a table in each region.
                      IAM also: dynamodb:CreateTableReplica and the rights AWS lists for
                      global tables in each region.

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
  sessions: `Usage: dynamo-session sessions --user <id> [options]

Lists the live sessions of a user, newest first: each one's handle, when it started and
expires (UTC), and its device (what the app's describe option kept; by default the browser's
User-Agent). Read from the user index, which lags the table by up to about a second.
IAM: dynamodb:Query on table/<name>/index/user.

${USER_OPTIONS}
  --json              print the sessions as JSON (times in epoch milliseconds)
${OPTIONS}

${EXIT_CODES}`,
  revoke: `Usage: dynamo-session revoke --user <id> [--except <handle>] [options]

Signs a user out everywhere: ends every session of the user, as a sign-out would (their
browsers can sign in again at once). Looks at the user index twice, a second apart, so a
session signed in a moment before is revoked too. Prints how many sessions it ended.
IAM: dynamodb:Query on table/<name>/index/user, GetItem, PutItem.

${USER_OPTIONS}
  --except <handle>   keep this session signed in (a handle the sessions command shows)
${OPTIONS}

${EXIT_CODES}`,
}

export const COMMANDS = [...Object.keys(COMMAND_FLAGS), 'help']
