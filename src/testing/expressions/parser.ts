/**
 * @module The recursive-descent parser's core, shared by the condition, update and projection
 * grammars: tokens, document paths, values, function arguments, and semantic errors collected
 * by kind so the first by DynamoDB's precedence is the one reported.
 */
import type { ExpressionContext, Operand, Path } from './ast.ts'
import { pathText } from './ast.ts'
import { RESERVED } from './reserved.ts'
import { type Token, tokenize } from './tokenizer.ts'

/** A document path has at most 32 elements, names and list indexes alike. */
const MAX_PATH_DEPTH = 32

/** A parser over one expression; the grammars (condition.ts, update.ts, projection.ts) drive it. */
export class Parser {
  tokens: Token[]
  i = 0
  /** Semantic errors, by kind; the first by DynamoDB's order is reported after parsing. */
  errors: Record<string, string> = {}
  operators = 0

  constructor(
    readonly source: string,
    readonly ctx: ExpressionContext,
  ) {
    this.tokens = tokenize(source)
  }

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]
  }

  next(): Token {
    const t = this.peek()
    if (this.i < this.tokens.length - 1) this.i++
    return t
  }

  is(text: string, offset = 0): boolean {
    const t = this.peek(offset)
    return (t.kind === 'op' || t.kind === 'name') && t.text.toUpperCase() === text
  }

  syntaxError(): never {
    const t = this.peek()
    const prev = this.i > 0 ? this.tokens[this.i - 1] : t
    const after = this.tokens[Math.min(this.i + 1, this.tokens.length - 1)]
    throw new Error(
      `Syntax error; token: "${t.text}", near: "${this.source.slice(prev.start, after.end)}"`,
    )
  }

  expect(text: string): void {
    if (!this.is(text)) this.syntaxError()
    this.next()
  }

  /** Counts an operator or function call: DynamoDB allows 300 in one expression. */
  operator(): void {
    if (++this.operators > 300) {
      throw new Error(
        `The expression contains too many operators; operator count: ${this.operators}`,
      )
    }
  }

  fail(kind: string, message: string): void {
    this.errors[kind] ??= message
  }

  /** The first error by DynamoDB's order, or undefined. */
  firstError(order: string[]): string | undefined {
    for (const kind of order) if (this.errors[kind]) return this.errors[kind]
    return undefined
  }

  end(): void {
    if (this.peek().kind !== 'eof') this.syntaxError()
  }

  nameOf(t: Token): string {
    if (t.kind === 'alias') {
      const name = this.ctx.names?.[t.text]
      if (name === undefined) {
        this.fail(
          'attrName',
          `An expression attribute name used in the document path is not defined; attribute name: ${t.text}`,
        )
        return t.text
      }
      this.ctx.usedNames.add(t.text)
      return name
    }
    if (RESERVED.has(t.text.toUpperCase())) {
      this.fail('reserved', `Attribute name is a reserved keyword; reserved keyword: ${t.text}`)
    }
    return t.text
  }

  path(): Operand & { kind: 'path' } {
    const first = this.peek()
    if (first.kind !== 'name' && first.kind !== 'alias') this.syntaxError()
    this.next()
    const path: Path = [this.nameOf(first)]
    for (;;) {
      if (this.is('.')) {
        this.next()
        const t = this.peek()
        if (t.kind !== 'name' && t.kind !== 'alias') this.syntaxError()
        this.next()
        path.push(this.nameOf(t))
      } else if (this.is('[')) {
        this.next()
        const t = this.peek()
        if (t.kind !== 'number') this.syntaxError()
        this.next()
        path.push(Number(t.text))
        this.expect(']')
      } else break
    }
    if (path.length > MAX_PATH_DEPTH) {
      // Unlike the other errors, the last path found too deep is the one reported.
      this.errors.pathDepth = `The document path has too many nesting levels; nesting levels: ${path.length}`
    }
    return { kind: 'path', path, text: this.source.slice(first.start, this.tokens[this.i - 1].end) }
  }

  value(): Operand {
    const t = this.next()
    const value = this.ctx.values?.[t.text]
    if (value === undefined) {
      this.fail(
        'attrVal',
        `An expression attribute value used in expression is not defined; attribute value: ${t.text}`,
      )
      return { kind: 'value', name: t.text, value: { NULL: true } }
    }
    this.ctx.usedValues.add(t.text)
    return { kind: 'value', name: t.text, value }
  }

  args(): Operand[] {
    this.expect('(')
    const args = [this.operand()]
    while (this.is(',')) {
      this.next()
      args.push(this.operand())
    }
    this.expect(')')
    return args
  }

  /** An operand of a condition: a path, a value or a function call. */
  operand(): Operand {
    const t = this.peek()
    if (t.kind === 'value') return this.value()
    if (t.kind === 'name' && this.is('(', 1)) {
      this.next()
      this.operator()
      return { kind: 'call', name: t.text, args: this.args() }
    }
    return this.path()
  }

  // Conditions -------------------------------------------------------------------------------

  checkPath(paths: Path[], path: Path): void {
    for (const other of paths) {
      let i = 0
      for (; i < other.length && i < path.length; i++) {
        if (typeof other[i] !== typeof path[i]) {
          this.fail(
            'pathConflict',
            `Two document paths conflict with each other; must remove or rewrite one of these paths; path one: ${pathText(other)}, path two: ${pathText(path)}`,
          )
          return
        }
        if (other[i] !== path[i]) break
      }
      if (i === Math.min(other.length, path.length)) {
        this.fail(
          'pathOverlap',
          `Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${pathText(other)}, path two: ${pathText(path)}`,
        )
        return
      }
    }
    paths.push(path)
  }
}
