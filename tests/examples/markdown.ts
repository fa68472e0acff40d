// The fenced code blocks of the README and docs/, for the tests that compile them
// (tests/examples/readme.test.ts) and run them (tests/docs/docs.test.ts).

/** One fenced block of a Markdown text. */
export interface FencedBlock {
  /** The fence's language: `ts`, `sh`, `jsonc`… */
  lang: string
  /** The text between the fences, ending with a newline. */
  code: string
  /** The 1-based line of the opening fence. */
  line: number
  /** The `## ` heading the block is under, without the hashes; '' before the first one. */
  section: string
  /**
   * What `<!-- docs-test: … -->` on the line right above the fence says (`run`, `file app.ts`,
   * `skip: why`…), if there is one.
   */
  marker: string | undefined
}

/** Every fenced block of `markdown`, in order. */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split('\n')
  const blocks: FencedBlock[] = []
  let section = ''
  for (let i = 0; i < lines.length; i++) {
    const heading = /^## (.+)$/.exec(lines[i])
    if (heading) section = heading[1].trim()
    const fence = /^```(\w*)$/.exec(lines[i])
    if (!fence) continue
    const end = lines.indexOf('```', i + 1)
    if (end < 0) throw new Error(`unclosed code block at line ${i + 1}`)
    const marker = /^<!-- docs-test: (.+?) -->$/.exec(lines[i - 1] ?? '')?.[1]
    blocks.push({
      lang: fence[1],
      code: `${lines.slice(i + 1, end).join('\n')}\n`,
      line: i + 1,
      section,
      marker,
    })
    i = end
  }
  return blocks
}

/** The code of the fenced blocks of `markdown` in one of the given languages. */
export function codeBlocks(markdown: string, languages: string[]): string[] {
  return fencedBlocks(markdown)
    .filter((b) => languages.includes(b.lang))
    .map((b) => b.code)
}
