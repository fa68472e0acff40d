// Starts the real AWS DynamoDB Local (Java) for tests, examples and benchmarks.
//
// DynamoDB Local comes from the npm registry: it ships inside the tarball of
// `amplify-dynamodb-simulator` (folder `package/emulator`). The package is not installed (its
// dependencies are heavy): its tarball is fetched with `npm pack` (npm's cache and integrity
// check apply) and only the emulator folder is unpacked, once, into
// `<repo>/.cache/dynamodb-local/amplify-dynamodb-simulator-<version>/`. Unpacking goes to a
// temporary folder that is then renamed into place, so two processes may race safely.
//
//   const ddb = await startDynamoDBLocal()
//   // ... talk to ddb.endpoint (http://127.0.0.1:<port>), any region, any credentials
//   await ddb.stop()
//
// The Java process is killed when the importing process exits, also on SIGINT/SIGTERM or a
// failing test, and, through a small watchdog shell, within a second of the process being gone
// in any other way (`deno test` ends without an exit event; a runner may be SIGKILLed).
// DynamoDB Local does not check SigV4 signatures. It does delete items whose TTL attribute has
// passed (seen within about a minute), so no test may depend on an expired item being there.
//
// Needs `java` (11+) on the PATH (or in $JAVA_HOME/bin), `npm` and `tar`. Works from Node
// (via tsx), Bun and Deno: it only imports `node:` modules. Run directly, it prints the endpoint
// and serves until Ctrl-C:
//
//   node --import tsx tests/infra/dynamodb-local.ts [--port 8000]

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sleep } from '../support/clock.ts'

/** The npm package whose tarball carries DynamoDB Local 1.25.1 in `package/emulator`. */
export const DYNAMODB_LOCAL_PACKAGE = 'amplify-dynamodb-simulator@2.9.30'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CACHE_ROOT = join(REPO_ROOT, '.cache', 'dynamodb-local')
/** Where the emulator folder (DynamoDBLocal.jar, DynamoDBLocal_lib/) is cached. */
export const DYNAMODB_LOCAL_DIR: string = join(CACHE_ROOT, DYNAMODB_LOCAL_PACKAGE.replace('@', '-'))

export interface DynamoDBLocalOptions {
  /** Port to listen on; default: a free port picked at run time. */
  port?: number
  /** Receives progress lines (`dynamodb-local: ...`) and DynamoDB Local's own output (`java: ...`). */
  log?: (line: string) => void
  /** How long to wait for DynamoDB Local to answer, in ms; default 60000. */
  timeoutMs?: number
  /** Options for the JVM before `-jar`, such as {@link QUICK_START}; default none. */
  javaOptions?: string[]
}

/**
 * JVM options that halve the CPU DynamoDB Local spends starting (about 3 s instead of 6.5 s):
 * the C1 compiler only, and the serial collector. For runs that start several at once on few
 * cores; steady-state throughput is lower, which short tests do not notice.
 */
export const QUICK_START: readonly string[] = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC']

export interface DynamoDBLocal {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  endpoint: string
  port: number
  /** PID of the Java process. */
  pid: number
  /** Kills the Java process and waits for it to exit; safe to call more than once. */
  stop(): Promise<void>
  /** Settles when the Java process has exited, with its exit code or signal. */
  exited: Promise<number | string | null>
}

/** Thrown when no Java runtime is found (`code: 'JAVA_NOT_FOUND'`): callers may fall back to dynalite. */
export class JavaNotFoundError extends Error {
  readonly code = 'JAVA_NOT_FOUND'
  constructor(command: string, cause?: unknown) {
    super(
      `DynamoDB Local needs a Java runtime (11 or later), but \`${command}\` was not found. ` +
        'Install one (Debian/Ubuntu: apt-get install default-jre-headless) or set JAVA_HOME. ' +
        '(The demo falls back to dynalite without Java; the test suite needs Java.)',
      { cause },
    )
    this.name = 'JavaNotFoundError'
  }
}

const READY_POLL_MS = 100
const STOP_GRACE_MS = 3000
const OUTPUT_LINES_KEPT = 200
/** Output after which DynamoDB Local will not become ready (it may not exit by itself, though). */
const FATAL_OUTPUT = /Exception in thread "main"|Failed to bind|BindException/

// ---------------------------------------------------------------------------------------------
// Children to kill when this process goes away

const children = new Set<ChildProcess>()
const SIGNALS =
  process.platform === 'win32' ? (['SIGINT'] as const) : (['SIGINT', 'SIGTERM'] as const)
let handlersInstalled = false

function killAllChildren(): void {
  for (const child of children) {
    try {
      child.kill('SIGKILL') // in-memory database: nothing to flush
    } catch {
      // already gone
    }
  }
  children.clear()
}

function onExit(): void {
  killAllChildren()
}

function onSignal(signal: NodeJS.Signals): void {
  killAllChildren()
  // If nobody else handles the signal, restore the default behaviour (terminate) and re-raise it.
  if (process.listenerCount(signal) === 1) {
    uninstallHandlers()
    process.kill(process.pid, signal)
  }
}

// Deno does not emit process 'exit' when it dies of an uncaught error; these events fire then.
// (Listening does not change what happens next: the error still ends the process.)
const denoEvents = 'Deno' in globalThis ? (['error', 'unhandledrejection'] as const) : []

/** Starts (or stops) listening for the exit, Deno's error events and the signals. */
function listen(on: boolean): void {
  if (handlersInstalled === on) return
  handlersInstalled = on
  const method = on ? 'on' : 'off'
  process[method]('exit', onExit)
  for (const event of denoEvents) {
    if (on) globalThis.addEventListener(event, onExit)
    else globalThis.removeEventListener(event, onExit)
  }
  for (const signal of SIGNALS) {
    try {
      process[method](signal, onSignal)
    } catch {
      // some runtimes do not support listening to every signal
    }
  }
}

const installHandlers = (): void => listen(true)
const uninstallHandlers = (): void => listen(false)

function forget(child: ChildProcess): void {
  children.delete(child)
  // Signal listeners may keep some runtimes (Deno) alive: remove them once nothing is running.
  if (children.size === 0) uninstallHandlers()
}

// ---------------------------------------------------------------------------------------------
// Helpers

function run(
  command: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32', // npm is npm.cmd there
    })
    let output = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    child.on('error', (error) =>
      fail(new Error(`cannot run ${command}: ${error.message}`, { cause: error })),
    )
    child.on('close', (code) => done({ code, output }))
  })
}

function javaCommand(): string {
  const home = process.env.JAVA_HOME
  if (home) {
    const candidate = join(home, 'bin', process.platform === 'win32' ? 'java.exe' : 'java')
    if (existsSync(candidate)) return candidate
  }
  return 'java'
}

async function checkJava(java: string): Promise<void> {
  let result: { code: number | null; output: string }
  try {
    result = await run(java, ['-version'])
  } catch (error) {
    throw new JavaNotFoundError(java, error)
  }
  if (result.code !== 0) throw new JavaNotFoundError(java, new Error(result.output.trim()))
}

/** Returns a port that was free a moment ago (listen on port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.unref()
    server.on('error', fail)
    server.listen(0, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port ? done(port) : fail(new Error('could not pick a free port'))))
    })
  })
}

// ---------------------------------------------------------------------------------------------
// Cache: npm pack + unpack package/emulator

/** Makes sure DynamoDB Local is unpacked in the cache; returns its folder. */
export async function ensureDynamoDBLocal(log: (line: string) => void = () => {}): Promise<string> {
  const jar = join(DYNAMODB_LOCAL_DIR, 'DynamoDBLocal.jar')
  if (existsSync(jar)) return DYNAMODB_LOCAL_DIR

  await mkdir(CACHE_ROOT, { recursive: true })
  await removeStaleTemps()
  // The temporary folder lives next to the final one, so the rename stays on one file system.
  const temp = await mkdtemp(join(CACHE_ROOT, '.tmp-'))
  try {
    const started = Date.now()
    log(`dynamodb-local: npm pack ${DYNAMODB_LOCAL_PACKAGE} (about 57 MB, once)`)
    const pack = await run(
      'npm',
      [
        'pack',
        DYNAMODB_LOCAL_PACKAGE,
        '--pack-destination',
        temp,
        '--silent',
        '--no-fund',
        '--no-audit',
      ],
      { cwd: temp },
    )
    const tarball = (await readdir(temp)).find((name) => name.endsWith('.tgz'))
    if (pack.code !== 0 || !tarball) {
      throw new Error(
        `npm pack ${DYNAMODB_LOCAL_PACKAGE} failed (exit code ${pack.code}):\n${pack.output.trim()}`,
      )
    }
    log(`dynamodb-local: unpacking package/emulator into ${DYNAMODB_LOCAL_DIR}`)
    const untar = await run('tar', ['-xzf', tarball, 'package/emulator'], { cwd: temp })
    const unpacked = join(temp, 'package', 'emulator')
    if (untar.code !== 0 || !existsSync(join(unpacked, 'DynamoDBLocal.jar'))) {
      throw new Error(
        `unpacking ${tarball} failed (exit code ${untar.code}):\n${untar.output.trim()}`,
      )
    }
    try {
      await rename(unpacked, DYNAMODB_LOCAL_DIR)
    } catch (error) {
      if (existsSync(jar)) {
        // Another process won the race: use its copy.
      } else if (existsSync(DYNAMODB_LOCAL_DIR)) {
        // A broken leftover without the jar: move it away and retry once.
        await rename(DYNAMODB_LOCAL_DIR, join(temp, 'broken'))
        await rename(unpacked, DYNAMODB_LOCAL_DIR)
      } else {
        throw error
      }
    }
    log(`dynamodb-local: cached in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
  return DYNAMODB_LOCAL_DIR
}

/** Removes temporary folders left by killed runs (older than an hour, so never a live one). */
async function removeStaleTemps(): Promise<void> {
  for (const name of await readdir(CACHE_ROOT)) {
    if (!name.startsWith('.tmp-')) continue
    const path = join(CACHE_ROOT, name)
    try {
      if (Date.now() - (await stat(path)).mtimeMs > 3_600_000) {
        await rm(path, { recursive: true, force: true })
      }
    } catch {
      // removed meanwhile
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Start

/** Answers when DynamoDB Local serves the JSON API (a ListTables call succeeds). */
async function isReady(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.0',
        'X-Amz-Target': 'DynamoDB_20120810.ListTables',
        // DynamoDB Local wants an Authorization header but does not check the signature.
        Authorization:
          'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, ' +
          'SignedHeaders=host, Signature=x',
      },
      body: '{}',
      signal: AbortSignal.timeout(2000),
    })
    const text = await response.text()
    return response.ok && text.includes('TableNames')
  } catch {
    return false
  }
}

/**
 * Starts DynamoDB Local (in memory, one shared database) on a free port (or `options.port`)
 * and resolves once it answers ListTables.
 */
export async function startDynamoDBLocal(
  options: DynamoDBLocalOptions = {},
): Promise<DynamoDBLocal> {
  const log = options.log ?? (() => {})
  const java = javaCommand()
  await checkJava(java) // before the download, so a machine without Java fails fast
  const dir = await ensureDynamoDBLocal(log)

  // A port picked at run time may be taken before Java binds it: then try another one.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort())
    try {
      return await launch(java, dir, port, options, log)
    } catch (error) {
      const portTaken =
        error instanceof Error &&
        /BindException|Failed to bind|Address already in use/i.test(error.message)
      if (!portTaken || options.port !== undefined || attempt >= 3) throw error
      log(`dynamodb-local: port ${port} was taken, trying another one`)
    }
  }
}

/**
 * A shell that kills DynamoDB Local once this process is gone, however it went: `deno test` ends
 * without any exit event, and a runner may be killed outright. It checks every second, and ends
 * by itself when DynamoDB Local does.
 */
function watch(child: ChildProcess): ChildProcess | undefined {
  if (process.platform === 'win32' || child.pid === undefined) return undefined
  const script = `while kill -0 ${child.pid} 2>/dev/null; do kill -0 ${process.pid} 2>/dev/null || { kill ${child.pid}; exit; }; sleep 1; done`
  try {
    const watchdog = spawn('sh', ['-c', script], { stdio: 'ignore', detached: true })
    watchdog.on('error', () => {})
    watchdog.unref()
    return watchdog
  } catch {
    return undefined
  }
}

async function launch(
  java: string,
  dir: string,
  port: number,
  options: DynamoDBLocalOptions,
  log: (line: string) => void,
): Promise<DynamoDBLocal> {
  const started = Date.now()
  const timeoutMs = options.timeoutMs ?? 60_000
  const args = [
    ...(options.javaOptions ?? []),
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-inMemory',
    '-sharedDb',
    '-disableTelemetry',
    '-port',
    String(port),
  ]
  log(`dynamodb-local: ${java} ${args.join(' ')}`)
  const child = spawn(java, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  installHandlers()
  const watchdog = watch(child)

  const output: string[] = []
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let pending = ''
    stream?.setEncoding('utf8')
    stream?.on('data', (chunk: string) => {
      const lines = (pending + chunk).split(/\r?\n/)
      pending = lines.pop() ?? ''
      for (const line of lines) {
        output.push(line)
        if (output.length > OUTPUT_LINES_KEPT) output.shift()
        log(`java: ${line}`)
      }
    })
  }
  collect(child.stdout)
  collect(child.stderr)

  let exitCode: number | string | null | undefined
  const exited = new Promise<number | string | null>((done) => {
    child.on('error', (error) => {
      exitCode ??= `spawn error: ${error.message}`
      forget(child)
      done(exitCode)
    })
    child.on('close', (code, signal) => {
      exitCode ??= code ?? signal
      forget(child)
      watchdog?.kill()
      done(exitCode)
    })
  })

  const stop = async (): Promise<void> => {
    if (exitCode === undefined) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
      await exited
      clearTimeout(timer)
    }
    forget(child)
  }

  const endpoint = `http://127.0.0.1:${port}`
  const javaOutput = () => (output.length ? output.join('\n') : '(no output)')
  const deadline = started + timeoutMs
  while (!(await isReady(endpoint))) {
    if (exitCode !== undefined) {
      throw new Error(
        `DynamoDB Local exited before it was ready (${exitCode}). Java output:\n${javaOutput()}`,
      )
    }
    if (output.some((line) => FATAL_OUTPUT.test(line))) {
      await sleep(300) // let the rest of the stack trace arrive
      await stop()
      throw new Error(
        `DynamoDB Local failed to start on port ${port}. Java output:\n${javaOutput()}`,
      )
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(
        `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs / 1000} s. Java output:\n${javaOutput()}`,
      )
    }
    await Promise.race([sleep(READY_POLL_MS), exited])
  }
  if (child.pid === undefined) throw new Error('DynamoDB Local has no PID')
  // Do not keep the event loop alive for DynamoDB Local: a test file that forgets stop() still
  // ends, and the exit handler then kills Java.
  child.unref()
  for (const stream of [child.stdout, child.stderr])
    (stream as { unref?: () => void } | null)?.unref?.()
  log(`dynamodb-local: ready at ${endpoint} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return { endpoint, port, pid: child.pid, stop, exited }
}

// ---------------------------------------------------------------------------------------------
// One per process, for test runners: started on first use, stopped by the runner's teardown

let shared: Promise<DynamoDBLocal> | undefined

/** The process's shared DynamoDB Local, started on the first call. */
export function sharedDynamoDBLocal(): Promise<DynamoDBLocal> {
  shared ??= startDynamoDBLocal()
  return shared
}

/** Stops the shared DynamoDB Local if one was started; the exit handler covers the rest. */
export async function stopSharedDynamoDBLocal(): Promise<void> {
  const started = shared
  shared = undefined
  await (await started?.catch(() => undefined))?.stop()
}

// ---------------------------------------------------------------------------------------------
// Run as a script: serve until Ctrl-C

function isMain(): boolean {
  const main = (import.meta as { main?: boolean }).main // Bun, Deno, Node >= 24
  if (typeof main === 'boolean') return main
  const script = process.argv[1]
  return script !== undefined && resolve(script) === fileURLToPath(import.meta.url)
}

async function serve(): Promise<void> {
  const portFlag = process.argv.indexOf('--port')
  const port = portFlag > 0 ? Number(process.argv[portFlag + 1]) : undefined
  const ddb = await startDynamoDBLocal({ port, log: (line) => console.error(line) })
  console.log(ddb.endpoint)
  console.error(`DynamoDB Local (pid ${ddb.pid}) at ${ddb.endpoint}; Ctrl-C stops it. For example:`)
  console.error(`  export AWS_ENDPOINT_URL_DYNAMODB=${ddb.endpoint} AWS_REGION=us-east-1`)
  console.error('  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local')
  const keepAlive = setInterval(() => {}, 1 << 30)
  let stopping = false
  const shutdown = async () => {
    stopping = true
    clearInterval(keepAlive)
    await ddb.stop()
    process.exit(0)
  }
  process.on('SIGINT', shutdown)
  if (process.platform !== 'win32') process.on('SIGTERM', shutdown)
  const code = await ddb.exited
  if (stopping) return
  console.error(`DynamoDB Local exited unexpectedly (${code})`)
  process.exit(1)
}

// No top-level await: the module also loads where that is unavailable.
if (isMain()) {
  serve().catch((error) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  })
}
