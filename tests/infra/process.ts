// A child process whose output is collected: for tests that run a program (the CLI, a Deno
// script) and read what it printed and how it exited.
import { type SpawnOptions, spawn } from 'node:child_process'

export interface Collected {
  pid: number
  /** What the child wrote to stdout and stderr so far. */
  stdout(): string
  stderr(): string
  /** Settles with the exit code (null when killed by a signal) once the streams are closed. */
  exited: Promise<number | null>
}

/** Starts `command` with `args`; its stdin is closed, its output collected. */
export function startProcess(command: string, args: string[], options: SpawnOptions): Collected {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve(code))
  })
  return { pid: child.pid as number, stdout: () => stdout, stderr: () => stderr, exited }
}
