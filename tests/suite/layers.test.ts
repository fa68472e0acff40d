// The layers of src/, as docs/architecture.md lists them, hold in the code: every file is listed
// once, and imports only from files listed above it (a folder listed as `name/` is one entry
// whose files may import each other); only the files allowed to import from Hono or from Node's
// built-ins do. The document cannot drift from the imports without this test failing.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const SRC = join(ROOT, 'src')

/** The files of src/, relative to it, with forward slashes. */
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [relative(SRC, path).split('\\').join('/')] : []
  })
}

/** The entries of the layer list in docs/architecture.md, top (lowest layer) first. */
function layers(): string[] {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8')
  const block = /<!-- layers -->\s*```\n([\s\S]*?)```/.exec(doc)?.[1]
  assert.ok(block, 'docs/architecture.md has a fenced list after <!-- layers -->')
  return block
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => line.split(/\s+/)[0])
}

/** The import and export-from specifiers of a source file. */
const specifiers = (file: string): string[] =>
  [
    ...readFileSync(join(SRC, file), 'utf8').matchAll(
      /^(?:import|export)[^'"]*?from\s+'([^']+)'/gm,
    ),
  ].map((m) => m[1])

const entryOf = (file: string, entries: string[]): number =>
  entries.findIndex((e) => (e.endsWith('/') ? file.startsWith(e) : file === e))

describe('layers', () => {
  const files = sources()
  const entries = layers()

  test('every file of src/ is listed once in docs/architecture.md, and every entry exists', () => {
    for (const file of files) {
      const matches = entries.filter((e) => (e.endsWith('/') ? file.startsWith(e) : file === e))
      assert.equal(matches.length, 1, `${file}: listed ${matches.length} times`)
    }
    for (const entry of entries) {
      assert.ok(
        files.some((f) => (entry.endsWith('/') ? f.startsWith(entry) : f === entry)),
        `${entry} is listed but not in src/`,
      )
    }
  })

  test('each file imports only from files listed above it', () => {
    const wrong: string[] = []
    for (const file of files) {
      const own = entryOf(file, entries)
      for (const spec of specifiers(file).filter((s) => s.startsWith('.'))) {
        const target = normalize(join(dirname(file), spec))
          .split('\\')
          .join('/')
        const at = entryOf(target, entries)
        const sameFolder = own === at && entries[own].endsWith('/')
        if (at < 0 || (at >= own && !sameFolder)) wrong.push(`${file} imports ${target}`)
      }
    }
    assert.deepEqual(wrong, [])
  })

  test('only the Hono wiring imports Hono, and only the CLI imports Node built-ins', () => {
    const hono = [
      'middleware.ts',
      'errors.ts',
      'options.ts',
      'request.ts',
      'index.ts',
      'regions.ts',
    ]
    for (const file of files) {
      const specs = specifiers(file)
      if (!hono.includes(file)) {
        assert.deepEqual(
          specs.filter((s) => s === 'hono' || s.startsWith('hono/')),
          [],
          `${file} imports Hono`,
        )
      }
      if (file !== 'cli.ts') {
        assert.deepEqual(
          specs.filter((s) => s.startsWith('node:')),
          [],
          `${file} imports a Node built-in`,
        )
      }
    }
  })
})
