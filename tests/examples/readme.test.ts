// The README as a user reads it: every ```ts block compiles against the package's source (the
// package names mapped to src/ by tsconfig paths), the README stays short, and every relative
// link in README.md and docs/*.md resolves to a file in the repository and in the npm tarball
// (links to this repository on GitHub must name files that exist here).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { dirname, join, normalize, relative } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { codeBlocks } from './markdown.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const REPOSITORY = 'https://github.com/dynamo-session/hono/'
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`)

/** `[text](target)` links and `src="..."` of a Markdown text, code blocks left out. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '')
  return [
    ...[...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]),
    ...[...prose.matchAll(/src="([^"]+)"/g)].map((m) => m[1]),
  ]
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')

const anchorsOf = (markdown: string) =>
  new Set(
    markdown
      .replace(/^```[\s\S]*?^```$/gm, '')
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) => slug(line.replace(/^#+ /, ''))),
  )

function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((done) =>
    execFile(command, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    ),
  )
}

describe('README.md', () => {
  test('is at most 250 lines', () => {
    const lines = read('README.md').split('\n').length
    assert.ok(lines <= 250, `README.md has ${lines} lines`)
  })

  test('every TypeScript block compiles against the package source', async () => {
    const blocks = codeBlocks(read('README.md'), ['ts', 'tsx', 'typescript'])
    assert.ok(blocks.length >= 3, 'the README shows the app, its usage and a test')
    await mkdir(join(ROOT, '.cache'), { recursive: true })
    const dir = await mkdtemp(join(ROOT, '.cache', 'readme-'))
    try {
      const src = relative(dir, join(ROOT, 'src'))
      const files = blocks.map((_, i) => `block-${i + 1}.ts`)
      await Promise.all(blocks.map((code, i) => writeFile(join(dir, files[i]), code)))
      const tsconfig = {
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          moduleDetection: 'force',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          isolatedModules: true,
          verbatimModuleSyntax: true,
          allowImportingTsExtensions: true,
          baseUrl: '.',
          paths: {
            '@dynamo-session/hono': [`${src}/index.ts`],
            '@dynamo-session/hono/testing': [`${src}/testing/index.ts`],
          },
        },
        files,
      }
      await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
      const { code, output } = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')])
      const shown = output.replace(/block-(\d+)\.ts/g, (_, n) => `README block ${n}`)
      assert.equal(code, 0, shown)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('tells users the scoped CLI only: never a bare `npx dynamo-session`', () => {
    for (const file of ['README.md', ...DOCS]) {
      assert.doesNotMatch(read(file), /(npx|bunx|pnpm dlx) dynamo-session\b/, file)
    }
  })
})

describe('links in README.md and docs/', () => {
  const files = ['README.md', 'CHANGELOG.md', ...DOCS]

  test('every relative link names a file of the repository, and its anchor exists', () => {
    const broken: string[] = []
    for (const file of files) {
      for (const link of linksOf(read(file))) {
        if (/^(mailto:|https?:)/.test(link)) continue
        const [path, anchor] = link.split('#')
        const target = path ? normalize(join(dirname(file), path)) : file
        if (!existsSync(join(ROOT, target))) {
          broken.push(`${file}: ${link} (no ${target})`)
          continue
        }
        if (anchor && target.endsWith('.md') && !anchorsOf(read(target)).has(anchor)) {
          broken.push(`${file}: ${link} (no heading #${anchor} in ${target})`)
        }
      }
    }
    assert.deepEqual(broken, [])
  })

  test('every link to this repository on GitHub names a file that exists here', () => {
    const broken: string[] = []
    for (const file of files) {
      for (const link of linksOf(read(file))) {
        const match = new RegExp(`^${REPOSITORY}(?:blob|tree)/main/([^#?]+)`).exec(link)
        if (match && !existsSync(join(ROOT, match[1]))) broken.push(`${file}: ${link}`)
      }
    }
    assert.deepEqual(broken, [])
  })

  test('every relative link from the shipped pages resolves inside the npm tarball', async () => {
    const { code, output } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'])
    assert.equal(code, 0, output)
    const packed = new Set(
      (
        JSON.parse(output.slice(output.indexOf('['))) as { files: { path: string }[] }[]
      )[0].files.map((f) => f.path),
    )
    const broken: string[] = []
    for (const file of files.filter((f) => packed.has(f))) {
      for (const link of linksOf(read(file))) {
        if (/^(mailto:|https?:|#)/.test(link)) continue
        const target = normalize(join(dirname(file), link.split('#')[0]))
        if (!packed.has(target)) broken.push(`${file}: ${link} (${target} is not in the tarball)`)
      }
    }
    assert.ok(packed.has('README.md') && packed.has('docs/options.md'), [...packed].join(', '))
    assert.deepEqual(broken, [])
  })
})
