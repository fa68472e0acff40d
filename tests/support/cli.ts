// The dynamo-session CLI as a user runs it: a child process in the repository, with exactly the
// environment a test gives it (plus PATH and HOME), against the suite's DynamoDB.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { testEndpoint } from './backend.ts'

/** The repository root, with a trailing slash. */
export const ROOT: string = fileURLToPath(new URL('../..', import.meta.url))

/** How Node runs the CLI from source. */
export const NODE_CLI: string[] = ['--import', 'tsx', 'src/cli.ts']

/** How a command ended: its exit code and what it printed. */
export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command in the repository with exactly `env` (plus PATH and HOME). */
export function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Run> {
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

/** Runs `dynamo-session <args>` from source with exactly `env`. */
export const cli = (args: string[], env?: Record<string, string>): Promise<Run> =>
  run(process.execPath, [...NODE_CLI, ...args], env)

/** The AWS environment variables that point the CLI at the suite's DynamoDB. */
export const awsEnv = (): Record<string, string> => ({
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_ENDPOINT_URL_DYNAMODB: testEndpoint(),
})
