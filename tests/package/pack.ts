// `npm pack` of this repository, as `npm publish` would make it (prepack builds dist/ first), for
// the tests that check the tarball (package.test.ts) and install it like a user (docs/docs.test.ts).
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** What `npm pack` made: the tarball's path and the files it holds. */
export interface Packed {
  tarball: string
  files: { path: string; mode: number }[]
}

/** Packs the repository into `destination`. Builds dist/: not alongside tests that import it. */
export function packTarball(destination: string): Promise<Packed> {
  return new Promise((resolve, reject) => {
    execFile(
      'npm',
      ['pack', '--json', '--pack-destination', destination],
      { cwd: ROOT, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`npm pack failed\n${stdout}\n${stderr}`))
        const [info] = JSON.parse(stdout.slice(stdout.indexOf('[')))
        resolve({ tarball: join(destination, info.filename), files: info.files })
      },
    )
  })
}
