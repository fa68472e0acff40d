// The type tests, under each TypeScript this repository tests with (the 5.x devDependency and
// the current major as `typescript-next`). For each compiler:
//  1. `tsc -p tests/types` passes: every accepted line compiles, and every `@ts-expect-error`
//     line has an error (an unused directive is itself an error).
//  2. The same files with the directives turned into plain comments give errors only on the
//     lines after them, and each such error contains the text after its directive: a line that
//     fails for another reason (a typo, a renamed export) does not pass unnoticed.
// Prints TAP-style `ok`/`not ok` lines and `# pass N` / `# fail N` for tests/run.ts.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = join(import.meta.dirname, '..', '..')
const here = relative(root, import.meta.dirname)
const COMPILERS = ['typescript', 'typescript-next']
const DIRECTIVE = /^(\s*)\/\/ @ts-expect-error(.*)$/

const files = readdirSync(join(root, here)).filter((f) => f.endsWith('.ts') && f !== 'check.ts')

interface Expectation {
  file: string
  line: number // 1-based line that must have the error
  text: string
}
const expectations: Expectation[] = []
const stripped = new Map<string, string>()
for (const file of files) {
  const lines = readFileSync(join(root, here, file), 'utf8').split('\n')
  lines.forEach((line, i) => {
    const m = DIRECTIVE.exec(line)
    if (!m) return
    expectations.push({ file, line: i + 2, text: m[2].trim() })
    lines[i] = `${m[1]}// expect error:${m[2]}`
  })
  stripped.set(file, lines.join('\n'))
}

let passed = 0
let failed = 0
let n = 0
const report = (ok: boolean, what: string, detail?: string) => {
  n++
  if (ok) passed++
  else failed++
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${what}`)
  if (!ok && detail) console.log(detail.replace(/^/gm, '  # '))
}

interface Diagnostic {
  file: string
  line: number
  message: string
}
function tsc(
  compiler: string,
  project: string,
): { code: number; diagnostics: Diagnostic[]; output: string } {
  const bin = join(root, 'node_modules', compiler, 'bin', 'tsc')
  const r = spawnSync(process.execPath, [bin, '--noEmit', '--pretty', 'false', '-p', project], {
    cwd: root,
    encoding: 'utf8',
  })
  const output = `${r.stdout}${r.stderr}`
  const diagnostics: Diagnostic[] = []
  for (const line of output.split('\n')) {
    const m = /^(.+?)\((\d+),\d+\): error (TS\d+: .*)$/.exec(line)
    if (m)
      diagnostics.push({ file: m[1].split('/').at(-1) ?? '', line: Number(m[2]), message: m[3] })
    else if (line.startsWith('  ') && diagnostics.length)
      diagnostics.at(-1)!.message += `\n${line.trim()}`
  }
  return { code: r.status ?? 1, diagnostics, output }
}

const copyDir = join(root, 'node_modules', '.cache', 'type-tests', String(process.pid))
try {
  mkdirSync(copyDir, { recursive: true })
  // The copy's imports of the library point at it from where the copy lives.
  const src = `'${relative(copyDir, join(root, 'src'))}/`
  for (const [file, text] of stripped) {
    writeFileSync(join(copyDir, file), text.replaceAll("'../../src/", src))
  }
  writeFileSync(
    join(copyDir, 'tsconfig.json'),
    JSON.stringify({
      extends: relative(copyDir, join(root, here, 'tsconfig.json')),
      include: [],
      files,
    }),
  )

  for (const compiler of COMPILERS) {
    const version = JSON.parse(
      readFileSync(join(root, 'node_modules', compiler, 'package.json'), 'utf8'),
    ).version
    const name = `TypeScript ${version}`
    const plain = tsc(compiler, here)
    report(plain.code === 0, `${name}: tsc -p ${here} passes`, plain.output)

    const { diagnostics, output } = tsc(compiler, relative(root, copyDir))
    if (!diagnostics.length) {
      report(false, `${name}: the copy without directives has errors`, output)
      continue
    }
    for (const e of expectations) {
      const here = diagnostics.filter((d) => d.file === e.file && d.line === e.line)
      const ok = e.text !== '' && here.some((d) => d.message.includes(e.text))
      report(
        ok,
        `${name}: ${e.file}:${e.line} ${e.text || '(no expected text after @ts-expect-error)'}`,
        here.length ? here.map((d) => d.message).join('\n') : 'no error on this line',
      )
    }
    const stray = diagnostics.filter(
      (d) => !expectations.some((e) => e.file === d.file && e.line === d.line),
    )
    report(
      stray.length === 0,
      `${name}: no error outside the expected lines`,
      stray.map((d) => `${d.file}:${d.line} ${d.message}`).join('\n'),
    )
  }
} finally {
  rmSync(copyDir, { recursive: true, force: true })
}

console.log(`1..${n}`)
console.log(`# pass ${passed}`)
console.log(`# fail ${failed}`)
process.exitCode = failed ? 1 : 0
