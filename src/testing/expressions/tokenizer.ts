/**
 * @module The tokenizer of DynamoDB's expressions: names, `#aliases`, `:values`, list indexes
 * and operators, with their positions for syntax errors.
 */

export interface Token {
  kind: 'name' | 'alias' | 'value' | 'number' | 'op' | 'eof'
  text: string
  start: number
  end: number
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  const re =
    /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(\d+)|(<>|<=|>=|[=<>(),.[\]+-])|(\S))/y
  let pos = 0
  for (;;) {
    re.lastIndex = pos
    const m = re.exec(source)
    if (!m) break
    const text = m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5] ?? m[6]
    const start = m.index + m[0].length - text.length
    const kind = m[1] ? 'alias' : m[2] ? 'value' : m[3] ? 'name' : m[4] ? 'number' : 'op'
    tokens.push({ kind, text, start, end: start + text.length })
    pos = re.lastIndex
  }
  tokens.push({ kind: 'eof', text: '<EOF>', start: source.length, end: source.length })
  return tokens
}
