// Runs a demo entry point (examples/*.ts) as a child process and waits for its
// "Demo listening on <url>" line. Stopping signals the child by its PID and waits for the exit.
import { type ChildProcess, spawn } from 'node:child_process'

export interface DemoProcess {
  url: string
  pid: number
  /** Everything the child wrote so far, stdout and stderr interleaved. */
  output(): string
  /** Sends `signal` (SIGTERM by default), waits for the exit (SIGKILL after 5 s); the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

const LISTENING = /Demo listening on (http:\/\/\S+)/

export async function startDemoProcess(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 30_000,
): Promise<DemoProcess> {
  const child: ChildProcess = spawn(command, args, {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let code: number | null | undefined
  const exited = new Promise<void>((done) => {
    child.on('exit', (exitCode) => {
      code = exitCode
      done()
    })
    child.on('error', (error) => {
      output += `\nspawn error: ${error.message}`
      code = null
      done()
    })
  })
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      fail(
        new Error(`${command} ${args.join(' ')} did not listen within ${timeoutMs} ms:\n${output}`),
      )
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = LISTENING.exec(output)
      if (match) {
        clearTimeout(timer)
        done(match[1])
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    exited.then(() => {
      clearTimeout(timer)
      fail(new Error(`${command} ${args.join(' ')} exited (${code}) before listening:\n${output}`))
    })
  })
  const pid = child.pid as number
  return {
    url,
    pid,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (code === undefined) {
        child.kill(signal)
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      return code ?? null
    },
  }
}

/** True while a process with this PID exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
