// Runs a Worker module in workerd (the Cloudflare Workers runtime) through Miniflare.
//
// The entry (a module whose default export is `{ fetch }`, e.g. a Hono app) is bundled in
// memory by esbuild for the Workers platform (ESM, `workerd`/`worker`/`browser` export
// conditions, no Node built-ins: an import of one fails the bundle, which is the point) and
// served by workerd on 127.0.0.1 with the given string bindings (Workers "vars"). By default no
// compatibility flags are set: no `nodejs_compat`, only the Web APIs Workers always have. A
// Worker started with `compatibilityFlags: ['nodejs_compat']` (the demo, whose panel uses
// `hono/context-storage`, i.e. `node:async_hooks`) is bundled with `node:*` left as imports
// for workerd to provide, as wrangler does with that flag.
//
// workerd's outbound `fetch()` may reach servers on 127.0.0.1 (Miniflare allows private
// addresses), which is how a Worker under test reaches DynamoDB Local.
//
//   const worker = await startWorker({ entry: 'examples/cloudflare/worker.ts', bindings: { ... } })
//   const res = await worker.dispatch('/counter', { headers: { cookie } })
//   res.headers.getSetCookie()
//   await worker.stop()
//
// Needs Node >= 18 and the `miniflare` and `esbuild` dev dependencies; import from Node.

import { resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { sleep } from '../support/clock.ts'

/** The compatibility date the pinned workerd (1.20260426.x) supports; later dates fail. */
export const DEFAULT_COMPATIBILITY_DATE = '2026-04-01'

export interface WorkerOptions {
  /** Path of the Worker module (TypeScript or JavaScript), relative to the cwd or absolute. */
  entry: string
  /** String bindings, seen by the Worker as `env.NAME` (and by `env(c)` from `hono/adapter`). */
  bindings?: Record<string, string>
  compatibilityDate?: string
  /** Compatibility flags; none by default (the library must not need `nodejs_compat`). */
  compatibilityFlags?: string[]
  /**
   * Keep the Worker's console to `output()` instead of also showing it: for a test that expects
   * the Worker to log errors, and asserts what it logged. @default false
   */
  quiet?: boolean
}

export interface RunningWorker {
  /** Base URL of the Worker on 127.0.0.1, e.g. `http://127.0.0.1:40123/`, for real HTTP clients. */
  url: string
  /**
   * Sends a request to the Worker through Miniflare's `dispatchFetch`. `path` is resolved
   * against `url`. Redirects are not followed unless `init.redirect` says so, so that
   * Set-Cookie headers on a 3xx reach the test.
   */
  dispatch(path: string, init?: RequestInit): Promise<Response>
  /** What the Worker wrote to its console so far (stdout and stderr), also shown as it comes unless `quiet`. */
  output(): string
  /**
   * What the Worker logged from offset `from` of `output()` on, once it matches `pattern`: its
   * console reaches this process through a pipe, so a line may come after the response. Gives up
   * (and answers what there is) after `timeoutMs`.
   */
  waitForOutput(pattern: RegExp, from?: number, timeoutMs?: number): Promise<string>
  stop(): Promise<void>
}

/**
 * Bundles a Worker entry with esbuild, in memory, as workerd would receive it from wrangler.
 * With `nodejs_compat` among the flags, `node:*` imports stay external (workerd provides them);
 * without it, an import of a Node built-in fails the bundle.
 */
export async function bundleWorker(
  entry: string,
  compatibilityFlags: string[] = [],
): Promise<string> {
  const nodeCompat = compatibilityFlags.includes('nodejs_compat')
  const result = await build({
    entryPoints: [resolve(entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    minify: false,
    sourcemap: false,
    logLevel: 'silent',
    external: nodeCompat ? ['node:*'] : [],
  }).catch((error: Error) => {
    const hint =
      /Could not resolve/.test(error.message) && !nodeCompat
        ? ' (a Worker without nodejs_compat has no Node built-ins such as node:crypto)'
        : ''
    throw new Error(`Bundling ${entry} for workerd failed${hint}: ${error.message}`, {
      cause: error,
    })
  })
  const file = result.outputFiles[0]
  if (!file) throw new Error(`esbuild produced no output for ${entry}`)
  return file.text
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const script = await bundleWorker(options.entry, options.compatibilityFlags)
  let output = ''
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: options.compatibilityDate ?? DEFAULT_COMPATIBILITY_DATE,
    compatibilityFlags: options.compatibilityFlags ?? [],
    bindings: { ...options.bindings },
    host: '127.0.0.1',
    port: 0,
    // The placeholder `request.cf`: without this Miniflare downloads
    // https://workers.cloudflare.com/cf.json (3 s timeout) into node_modules/.mf.
    cf: false,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      for (const [stream, echo] of [
        [stdout, process.stdout],
        [stderr, process.stderr],
      ] as const) {
        stream.on('data', (chunk: Buffer) => {
          output += chunk.toString()
          if (!options.quiet) echo.write(chunk)
        })
      }
    },
  })
  let url: URL
  try {
    url = await mf.ready
  } catch (error) {
    await mf.dispose().catch(() => {})
    throw error
  }
  let stopped: Promise<void> | undefined
  return {
    url: url.href,
    async dispatch(path, init) {
      // Miniflare's dispatchFetch takes and returns undici's Request/Response, which match
      // the global (DOM) types at runtime; only the TypeScript declarations differ.
      const dispatchFetch = mf.dispatchFetch as unknown as (
        input: string,
        init?: RequestInit,
      ) => Promise<Response>
      return dispatchFetch(new URL(path, url).href, { redirect: 'manual', ...init })
    },
    output: () => output,
    async waitForOutput(pattern, from = 0, timeoutMs = 5000) {
      for (let waited = 0; !pattern.test(output.slice(from)) && waited < timeoutMs; waited += 50) {
        await sleep(50)
      }
      return output.slice(from)
    },
    stop() {
      stopped ??= mf.dispose()
      return stopped
    },
  }
}
