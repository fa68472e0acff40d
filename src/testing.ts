/**
 * @module An in-memory DynamoDB behind a `fetch`, for testing apps that use
 * `@dynamo-session/hono` without Java, Docker or a network: `bun test`, `deno test` and
 * `node --test` alike. It speaks DynamoDB's JSON API (the operations, expressions and errors the
 * library sends) and answers as DynamoDB Local does, validation errors included.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { dynamoSession, createSessionTable } from '@dynamo-session/hono'
 * import { memoryDynamoDB } from '@dynamo-session/hono/testing'
 *
 * const { fetch } = memoryDynamoDB()
 * const conn = { table: 'sessions', region: 'local', endpoint: 'http://dynamodb.test',
 *   credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, fetch }
 * await createSessionTable(conn)
 * const app = new Hono().use(dynamoSession({ ...conn, secret: 'a-long-test-secret-0123456789abcdef' }))
 * ```
 */

/** A DynamoDB attribute value as the JSON API carries it (`{ S: 'x' }`, `{ N: '1' }`, …). */
// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
export type AttributeValue = Record<string, any>
/** A DynamoDB item: attribute name to attribute value. */
export type Item = Record<string, AttributeValue>

/** A table of the in-memory DynamoDB, for assertions in tests. */
export interface MemoryTable {
  readonly name: string
  /** The key attributes, hash key first. */
  readonly keySchema: readonly { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[]
  /** The TTL attribute, when TTL is enabled. */
  readonly ttlAttribute: string | undefined
  /** A copy of every item. */
  readonly items: Item[]
}

/** What `memoryDynamoDB()` returns. */
export interface MemoryDynamoDB {
  /** A `fetch` that answers DynamoDB JSON API calls from memory, for any region and endpoint. */
  fetch: typeof fetch
  /** The tables by name. */
  readonly tables: ReadonlyMap<string, MemoryTable>
  /** Deletes every table. */
  reset(): void
}

// ---------------------------------------------------------------------------------------------
// Errors

const VALIDATION = 'com.amazon.coral.validate#ValidationException'
const DDB = 'com.amazonaws.dynamodb.v20120810#'

class DynamoError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

const invalid = (message: string) => new DynamoError(VALIDATION, message)
const notFound = () =>
  new DynamoError(`${DDB}ResourceNotFoundException`, 'Cannot do operations on a non-existent table')
const conditionFailed = (item?: Item) =>
  new DynamoError(
    `${DDB}ConditionalCheckFailedException`,
    'The conditional request failed',
    item ? { Item: item } : {},
  )
const MISSING_OPERAND =
  'The provided expression refers to an attribute that does not exist in the item'
const BAD_OPERAND = 'An operand in the update expression has an incorrect data type'
const BAD_PATH = 'The document path provided in the update expression is invalid for update'

// ---------------------------------------------------------------------------------------------
// Numbers: DynamoDB's decimals (38 digits, magnitude 1e-130 to 1e126), exact

interface Decimal {
  m: bigint
  e: number
}

function parseNumber(text: unknown): Decimal {
  const s = typeof text === 'number' ? String(text) : text
  const match =
    typeof s === 'string' ? /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s) : null
  if (!match || (match[2] === '' && !match[3])) {
    throw invalid('A value provided cannot be converted into a number')
  }
  const fraction = match[3] ?? ''
  let m = BigInt(`${match[2]}${fraction}` || '0')
  let e = Number(match[4] ?? 0) - fraction.length
  if (match[1] === '-') m = -m
  while (m !== 0n && m % 10n === 0n) {
    m /= 10n
    e++
  }
  return checkNumber({ m: m === 0n ? 0n : m, e: m === 0n ? 0 : e })
}

function checkNumber(d: Decimal): Decimal {
  if (d.m === 0n) return d
  const digits = (d.m < 0n ? -d.m : d.m).toString().length
  const magnitude = digits - 1 + d.e
  if (magnitude >= 126) {
    throw invalid(
      'Number overflow. Attempting to store a number with magnitude larger than supported range',
    )
  }
  if (magnitude < -130) {
    throw invalid(
      'Number underflow. Attempting to store a number with magnitude smaller than supported range',
    )
  }
  if (digits > 38) throw invalid('DynamoDB only supports precision up to 38 digits')
  return d
}

function formatNumber({ m, e }: Decimal): string {
  const sign = m < 0n ? '-' : ''
  const digits = (m < 0n ? -m : m).toString()
  if (e >= 0) return sign + digits + '0'.repeat(m === 0n ? 0 : e)
  const padded = digits.padStart(-e + 1, '0')
  return `${sign}${padded.slice(0, padded.length + e)}.${padded.slice(padded.length + e)}`
}

const normalizeNumber = (text: unknown): string => formatNumber(parseNumber(text))

function addNumbers(a: Decimal, b: Decimal, sign: 1n | -1n): Decimal {
  const e = Math.min(a.e, b.e)
  let m = a.m * 10n ** BigInt(a.e - e) + sign * b.m * 10n ** BigInt(b.e - e)
  let x = e
  while (m !== 0n && m % 10n === 0n) {
    m /= 10n
    x++
  }
  return checkNumber({ m, e: m === 0n ? 0 : x })
}

function compareNumbers(a: Decimal, b: Decimal): number {
  const d = addNumbers(a, b, -1n).m
  return d < 0n ? -1 : d > 0n ? 1 : 0
}

// ---------------------------------------------------------------------------------------------
// Attribute values

const TYPES = ['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL']
const typeOf = (v: AttributeValue): string => Object.keys(v)[0]
const utf8 = (s: string) => new TextEncoder().encode(s).length
const base64Length = (b: string) => {
  const clean = b.replace(/=+$/, '')
  return Math.floor((clean.length * 3) / 4)
}
const setName: Record<string, string> = { SS: 'string', NS: 'number', BS: 'binary' }

/** Checks an attribute value and returns a normalised copy (numbers in canonical form). */
function checkValue(v: unknown): AttributeValue {
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw invalid(
      'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes',
    )
  }
  const keys = Object.keys(v).filter((k) => (v as AttributeValue)[k] != null)
  if (keys.length === 0 || !TYPES.includes(keys[0])) {
    throw invalid(
      'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes',
    )
  }
  if (keys.length > 1) {
    throw invalid(
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    )
  }
  const type = keys[0]
  const value = (v as AttributeValue)[type]
  switch (type) {
    case 'S':
    case 'B':
      if (typeof value !== 'string') throw invalid(`Invalid ${type} value`)
      return { [type]: value }
    case 'N':
      return { N: normalizeNumber(value) }
    case 'BOOL':
      return { BOOL: value === true || value === 'true' }
    case 'NULL':
      if (value !== true && value !== 'true') {
        throw invalid(
          'One or more parameter values were invalid: Null attribute value types must have the value of true',
        )
      }
      return { NULL: true }
    case 'L':
      if (!Array.isArray(value)) throw invalid('Invalid L value')
      return { L: value.map(checkValue) }
    case 'M': {
      if (typeof value !== 'object' || Array.isArray(value)) throw invalid('Invalid M value')
      const out: Item = {}
      for (const k of Object.keys(value)) put(out, k, checkValue(value[k]))
      return { M: out }
    }
    default: {
      if (!Array.isArray(value) || value.length === 0) {
        throw invalid(
          `One or more parameter values were invalid: An ${setName[type]} set  may not be empty`,
        )
      }
      const members = type === 'NS' ? value.map(normalizeNumber) : value.map(String)
      if (new Set(members).size !== members.length) {
        throw invalid(
          `One or more parameter values were invalid: Input collection [${value.join(', ')}] contains duplicates`,
        )
      }
      return { [type]: members }
    }
  }
}

function checkItem(item: unknown): Item {
  if (!item || typeof item !== 'object') throw invalid('Item must not be null')
  const out: Item = {}
  for (const k of Object.keys(item)) put(out, k, checkValue((item as Item)[k]))
  return out
}

function valueSize(v: AttributeValue): number {
  const type = typeOf(v)
  const x = v[type]
  switch (type) {
    case 'S':
      return utf8(x)
    case 'B':
      return base64Length(x)
    case 'N': {
      const { m, e } = parseNumber(x)
      if (m === 0n) return 1
      const digits = (m < 0n ? -m : m).toString().length
      return 1 + Math.ceil(digits / 2) + (digits % 2 || e % 2 ? 0 : 1) + (m < 0n ? 1 : 0)
    }
    case 'SS':
      return x.reduce((n: number, s: string) => n + utf8(s), 0)
    case 'NS':
      return x.reduce((n: number, s: string) => n + valueSize({ N: s }), 0)
    case 'BS':
      return x.reduce((n: number, s: string) => n + base64Length(s), 0)
    case 'L':
      return 3 + x.reduce((n: number, e: AttributeValue) => n + 1 + valueSize(e), 0)
    case 'M':
      return 3 + Object.keys(x).length + itemSize(x)
    default:
      return 1
  }
}

/** An item's size by DynamoDB's rules: names and values, in bytes. */
function itemSize(item: Item): number {
  let size = 0
  for (const k of Object.keys(item)) size += utf8(k) + valueSize(item[k])
  return size
}

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)))

/** Sets a key as an own property: `__proto__` and `constructor` are ordinary attribute names. */
function put<V>(map: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true })
}

/** A map's own entry, never an inherited member such as `constructor`. */
// biome-ignore lint/suspicious/noExplicitAny: attribute maps as DynamoDB's JSON carries them
const own = (map: any, key: string): any => (map && Object.hasOwn(map, key) ? map[key] : undefined)

function bytesOf(v: AttributeValue): number[] {
  if ('S' in v) return [...new TextEncoder().encode(v.S)]
  const bin = atob(v.B)
  return Array.from(bin, (c) => c.charCodeAt(0))
}

function compareBytes(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

/** <0, 0, >0 for two scalars of one type (S, N, B); undefined when they cannot be ordered. */
function order(a: AttributeValue | undefined, b: AttributeValue | undefined): number | undefined {
  if (!a || !b) return undefined
  const t = typeOf(a)
  if (t !== typeOf(b)) return undefined
  if (t === 'N') return compareNumbers(parseNumber(a.N), parseNumber(b.N))
  if (t === 'S' || t === 'B') return compareBytes(bytesOf(a), bytesOf(b))
  return undefined
}

function equal(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (!a || !b) return false
  const t = typeOf(a)
  if (t !== typeOf(b)) return false
  const x = a[t]
  const y = b[t]
  switch (t) {
    case 'N':
      return compareNumbers(parseNumber(x), parseNumber(y)) === 0
    case 'SS':
    case 'BS':
    case 'NS': {
      if (x.length !== y.length) return false
      const ys = new Set(t === 'NS' ? y.map(normalizeNumber) : y)
      return x.every((e: string) => ys.has(t === 'NS' ? normalizeNumber(e) : e))
    }
    case 'L':
      return x.length === y.length && x.every((e: AttributeValue, i: number) => equal(e, y[i]))
    case 'M': {
      const kx = Object.keys(x)
      return (
        kx.length === Object.keys(y).length &&
        kx.every((k) => Object.hasOwn(y, k) && equal(x[k], y[k]))
      )
    }
    default:
      return x === y
  }
}

// ---------------------------------------------------------------------------------------------
// Expressions: tokenizer

interface Token {
  kind: 'name' | 'alias' | 'value' | 'number' | 'op' | 'eof'
  text: string
  start: number
  end: number
}

function tokenize(source: string): Token[] {
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

/** A resolved document path: attribute names and list indexes. */
type Path = (string | number)[]

type Operand =
  | { kind: 'path'; path: Path; text: string }
  | { kind: 'value'; name: string; value: AttributeValue }
  | { kind: 'call'; name: string; args: Operand[] }
  | { kind: 'arith'; op: '+' | '-'; left: Operand; right: Operand }

type Condition =
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; arg: Condition }
  | { kind: 'compare'; op: string; left: Operand; right: Operand }
  | { kind: 'between'; arg: Operand; low: Operand; high: Operand }
  | { kind: 'in'; arg: Operand; list: Operand[] }
  | { kind: 'call'; name: string; args: Operand[] }

/** The names and values of one request, and which of them were used. */
class ExpressionContext {
  usedNames = new Set<string>()
  usedValues = new Set<string>()
  constructor(
    readonly names: Record<string, string> | undefined,
    readonly values: Record<string, AttributeValue> | undefined,
  ) {}
}

const pathText = (path: Path) =>
  `[${path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join(', ')}]`

const typeName: Record<string, string> = {
  S: 'STRING',
  N: 'NUMBER',
  B: 'BINARY',
  NULL: 'NULL',
  BOOL: 'BOOLEAN',
  L: 'LIST',
  M: 'MAP',
}

const CONDITION_FUNCTIONS: Record<string, number> = {
  attribute_exists: 1,
  attribute_not_exists: 1,
  attribute_type: 2,
  begins_with: 2,
  contains: 2,
  size: 1,
}

/** A recursive-descent parser for DynamoDB's condition, update and projection expressions. */
class Parser {
  private tokens: Token[]
  private i = 0
  /** Semantic errors, by kind; the first by DynamoDB's order is reported after parsing. */
  private errors: Record<string, string> = {}
  private operators = 0

  constructor(
    private source: string,
    private ctx: ExpressionContext,
  ) {
    this.tokens = tokenize(source)
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]
  }

  private next(): Token {
    const t = this.peek()
    if (this.i < this.tokens.length - 1) this.i++
    return t
  }

  private is(text: string, offset = 0): boolean {
    const t = this.peek(offset)
    return (t.kind === 'op' || t.kind === 'name') && t.text.toUpperCase() === text
  }

  private syntaxError(): never {
    const t = this.peek()
    const prev = this.i > 0 ? this.tokens[this.i - 1] : t
    const after = this.tokens[Math.min(this.i + 1, this.tokens.length - 1)]
    throw new Error(
      `Syntax error; token: "${t.text}", near: "${this.source.slice(prev.start, after.end)}"`,
    )
  }

  private expect(text: string): void {
    if (!this.is(text)) this.syntaxError()
    this.next()
  }

  /** Counts an operator or function call: DynamoDB allows 300 in one expression. */
  private operator(): void {
    if (++this.operators > 300) {
      throw new Error(
        `The expression contains too many operators; operator count: ${this.operators}`,
      )
    }
  }

  private fail(kind: string, message: string): void {
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

  private nameOf(t: Token): string {
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
    return { kind: 'path', path, text: this.source.slice(first.start, this.tokens[this.i - 1].end) }
  }

  private value(): Operand {
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

  private args(): Operand[] {
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

  condition(): Condition {
    let left = this.conjunction()
    while (this.is('OR')) {
      this.next()
      this.operator()
      left = { kind: 'or', left, right: this.conjunction() }
    }
    return left
  }

  private conjunction(): Condition {
    let left = this.negation()
    while (this.is('AND')) {
      this.next()
      this.operator()
      left = { kind: 'and', left, right: this.negation() }
    }
    return left
  }

  private negation(): Condition {
    if (this.is('NOT')) {
      this.next()
      this.operator()
      return { kind: 'not', arg: this.negation() }
    }
    return this.comparison()
  }

  private comparison(): Condition {
    if (this.is('(')) {
      this.next()
      const inner = this.condition()
      this.expect(')')
      return inner
    }
    const left = this.operand()
    const t = this.peek()
    if (t.kind === 'op' && ['=', '<>', '<', '<=', '>', '>='].includes(t.text)) {
      this.next()
      this.operator()
      const right = this.operand()
      this.checkOperand(left)
      this.checkOperand(right)
      this.distinct(t.text, [left, right])
      return { kind: 'compare', op: t.text, left, right }
    }
    if (this.is('BETWEEN')) {
      this.next()
      this.operator()
      const low = this.operand()
      this.expect('AND')
      const high = this.operand()
      for (const o of [left, low, high]) this.checkOperand(o)
      this.distinct('BETWEEN', [left, low, high])
      if (low.kind === 'value' && high.kind === 'value') {
        const show = (v: AttributeValue) => `AttributeValue: {${typeOf(v)}:${v[typeOf(v)]}}`
        if (typeOf(low.value) !== typeOf(high.value)) {
          this.fail(
            'function',
            `The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: ${show(low.value)}, upper bound operand: ${show(high.value)}`,
          )
        } else if ((order(low.value, high.value) ?? 0) > 0) {
          this.fail(
            'function',
            `The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: ${show(low.value)}, upper bound operand: ${show(high.value)}`,
          )
        }
      }
      return { kind: 'between', arg: left, low, high }
    }
    if (this.is('IN')) {
      this.next()
      this.operator()
      const list = this.args()
      for (const o of [left, ...list]) this.checkOperand(o)
      this.distinct('IN', [left, ...list])
      return { kind: 'in', arg: left, list }
    }
    if (left.kind === 'call') {
      this.checkFunction(left.name, left.args)
      if (left.name === 'size') {
        this.fail(
          'misusedFunction',
          `The function is not allowed to be used this way in an expression; function: ${left.name}`,
        )
      }
      return { kind: 'call', name: left.name, args: left.args }
    }
    this.syntaxError()
  }

  /** An operand of a comparison must be a path, a value or size(). */
  private checkOperand(o: Operand): void {
    if (o.kind !== 'call') return
    this.checkFunction(o.name, o.args)
    if (o.name !== 'size' && o.name in CONDITION_FUNCTIONS) {
      this.fail(
        'misusedFunction',
        `The function is not allowed to be used this way in an expression; function: ${o.name}`,
      )
    }
  }

  private distinct(operator: string, operands: Operand[]): void {
    const key = (o: Operand) => JSON.stringify(o.kind === 'path' ? o.path : o)
    const first = key(operands[0])
    if (operands.slice(1).some((o) => key(o) === first)) {
      const shown =
        operands[0].kind === 'path'
          ? pathText(operands[0].path)
          : operands[0].kind === 'value'
            ? operands[0].name
            : operands[0].kind
      this.fail(
        'distinct',
        `The first operand must be distinct from the remaining operands for this operator or function; operator: ${operator}, first operand: ${shown}`,
      )
    }
  }

  private checkFunction(name: string, args: Operand[]): void {
    const arity = CONDITION_FUNCTIONS[name]
    if (arity === undefined) {
      this.fail('unknownFunction', `Invalid function name; function: ${name}`)
      return
    }
    if (arity !== args.length) {
      this.fail(
        'operand',
        `Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`,
      )
      return
    }
    for (const a of args) if (a.kind === 'call') this.checkOperand(a)
    this.distinct(name, args)
    const literal = (o: Operand) => (o.kind === 'value' ? typeOf(o.value) : undefined)
    const wrongType = (type: string) =>
      this.fail(
        'function',
        `Incorrect operand type for operator or function; operator or function: ${name}, operand type: ${type}`,
      )
    switch (name) {
      case 'attribute_exists':
      case 'attribute_not_exists':
        if (args[0].kind !== 'path') {
          this.fail(
            'function',
            `Operator or function requires a document path; operator or function: ${name}`,
          )
        }
        break
      case 'attribute_type': {
        if (args[0].kind !== 'path') {
          this.fail(
            'function',
            `Operator or function requires a document path; operator or function: ${name}`,
          )
          break
        }
        const type = literal(args[1])
        if (type !== 'S') wrongType(type ?? 'M')
        else if (!TYPES.includes((args[1] as { value: AttributeValue }).value.S)) {
          this.fail(
            'function',
            `Invalid attribute type name found; type: ${(args[1] as { value: AttributeValue }).value.S}, valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}`,
          )
        }
        break
      }
      case 'begins_with':
        for (const a of args) {
          const type = literal(a)
          if (type && type !== 'S' && type !== 'B') {
            wrongType(type)
            break
          }
        }
        break
      case 'contains':
        if (args[0].kind !== 'path') {
          const type = literal(args[0])
          if (type && !['S', 'SS', 'NS', 'BS', 'L', 'B'].includes(type)) wrongType(type)
        }
        break
      case 'size': {
        const type = literal(args[0])
        if (type && ['N', 'BOOL', 'NULL'].includes(type)) wrongType(type)
      }
    }
  }

  /** Errors of a condition, filter or key expression, by DynamoDB's precedence. */
  conditionError(): string | undefined {
    return this.firstError([
      'unknownFunction',
      'misusedFunction',
      'reserved',
      'attrName',
      'attrVal',
      'operand',
      'distinct',
      'function',
    ])
  }

  // Updates ----------------------------------------------------------------------------------

  update(): UpdateActions {
    const actions: UpdateActions = { set: [], remove: [], add: [], delete: [] }
    const seen = new Set<string>()
    const paths: Path[] = []
    do {
      const keyword = this.peek()
      const section = keyword.text.toUpperCase()
      if (keyword.kind !== 'name' || !['SET', 'REMOVE', 'ADD', 'DELETE'].includes(section)) {
        this.syntaxError()
      }
      this.next()
      if (seen.has(section)) {
        this.fail(
          'section',
          `The "${section}" section can only be used once in an update expression;`,
        )
      }
      seen.add(section)
      for (;;) {
        const target = this.path()
        this.checkPath(paths, target.path)
        if (section === 'SET') {
          this.expect('=')
          actions.set.push({ path: target.path, value: this.setValue() })
        } else if (section === 'REMOVE') {
          actions.remove.push(target.path)
        } else {
          if (this.peek().kind !== 'value') this.syntaxError()
          const value = this.value() as Operand & { kind: 'value' }
          const type = typeOf(value.value)
          const allowed = section === 'ADD' ? ['N', 'SS', 'NS', 'BS'] : ['SS', 'NS', 'BS']
          if (!this.errors.attrVal && !allowed.includes(type)) {
            this.fail(
              'operand',
              `Incorrect operand type for operator or function; operator: ${section}, operand type: ${typeName[type]}, typeSet: ALLOWED_FOR_${section}_OPERAND`,
            )
          }
          ;(section === 'ADD' ? actions.add : actions.delete).push({
            path: target.path,
            value: value.value,
          })
        }
        if (!this.is(',')) break
        this.next()
      }
    } while (this.peek().kind !== 'eof')
    return actions
  }

  private checkPath(paths: Path[], path: Path): void {
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

  private setValue(): Operand {
    const left = this.setOperand()
    if (this.is('+') || this.is('-')) {
      const op = this.next().text as '+' | '-'
      this.operator()
      const right = this.setOperand()
      for (const o of [left, right]) {
        if (o.kind === 'value' && typeOf(o.value) !== 'N' && !this.errors.attrVal) {
          this.fail(
            'function',
            `Incorrect operand type for operator or function; operator or function: ${op}, operand type: ${typeOf(o.value)}`,
          )
        }
      }
      return { kind: 'arith', op, left, right }
    }
    return left
  }

  private setOperand(): Operand {
    const t = this.peek()
    if (t.kind === 'value') return this.value()
    if (t.kind === 'name' && this.is('(', 1)) {
      this.next()
      this.operator()
      const name = t.text
      const args = this.args().map((a) => a)
      if (name === 'if_not_exists' || name === 'list_append') {
        if (args.length !== 2) {
          this.fail(
            'function',
            `Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`,
          )
        } else if (name === 'if_not_exists' && args[0].kind !== 'path') {
          this.fail(
            'function',
            `Operator or function requires a document path; operator or function: ${name}`,
          )
        } else if (name === 'list_append') {
          for (const a of args) {
            if (a.kind === 'value' && typeOf(a.value) !== 'L' && !this.errors.attrVal) {
              this.fail(
                'function',
                `Incorrect operand type for operator or function; operator or function: ${name}, operand type: ${typeOf(a.value)}`,
              )
            }
          }
        }
      } else if (name in CONDITION_FUNCTIONS) {
        this.fail(
          'unknownFunction',
          `The function is not allowed in an update expression; function: ${name}`,
        )
      } else {
        this.fail('unknownFunction', `Invalid function name; function: ${name}`)
      }
      return { kind: 'call', name, args }
    }
    return this.path()
  }

  updateError(): string | undefined {
    return this.firstError([
      'reserved',
      'unknownFunction',
      'section',
      'attrName',
      'attrVal',
      'pathOverlap',
      'pathConflict',
      'operand',
      'function',
    ])
  }

  // Projections ------------------------------------------------------------------------------

  projection(): Path[] {
    const paths: Path[] = []
    for (;;) {
      this.checkPath(paths, this.path().path)
      if (!this.is(',')) break
      this.next()
    }
    return paths
  }

  projectionError(): string | undefined {
    return this.firstError(['reserved', 'attrName', 'pathOverlap', 'pathConflict'])
  }

  // The (operand-level) setter used by update operands' nested calls -------------------------
}

interface UpdateActions {
  set: { path: Path; value: Operand }[]
  remove: Path[]
  add: { path: Path; value: AttributeValue }[]
  delete: { path: Path; value: AttributeValue }[]
}

const MAX_EXPRESSION_BYTES = 4096

function parseExpression<T>(
  label: string,
  source: unknown,
  ctx: ExpressionContext,
  parse: (p: Parser) => T,
  errorOf: (p: Parser) => string | undefined,
): T {
  if (typeof source !== 'string' || source.trim() === '') {
    throw invalid(`Invalid ${label}: The expression can not be empty;`)
  }
  if (utf8(source) > MAX_EXPRESSION_BYTES) {
    throw invalid(`Invalid ${label}: Expression size has exceeded the maximum allowed size;`)
  }
  const parser = new Parser(source, ctx)
  let result: T
  try {
    result = parse(parser)
    parser.end()
  } catch (error) {
    throw invalid(`Invalid ${label}: ${(error as Error).message}`)
  }
  const message = errorOf(parser)
  if (message) throw invalid(`Invalid ${label}: ${message}`)
  return result
}

// ---------------------------------------------------------------------------------------------
// Evaluation

function resolve(item: Item | undefined, path: Path): AttributeValue | undefined {
  let v: AttributeValue | undefined = item ? { M: item } : undefined
  for (const p of path) {
    if (!v) return undefined
    if (typeof p === 'number') v = v.L ? v.L[p] : undefined
    else v = own(v.M, p)
  }
  return v
}

function sizeOf(v: AttributeValue | undefined): AttributeValue | undefined {
  if (!v) return undefined
  const t = typeOf(v)
  const x = v[t]
  const n =
    t === 'S'
      ? x.length
      : t === 'B'
        ? base64Length(x)
        : t === 'M'
          ? Object.keys(x).length
          : ['SS', 'NS', 'BS', 'L'].includes(t)
            ? x.length
            : undefined
  return n === undefined ? undefined : { N: String(n) }
}

function operandValue(item: Item | undefined, o: Operand): AttributeValue | undefined {
  if (o.kind === 'value') return o.value
  if (o.kind === 'path') return resolve(item, o.path)
  if (o.kind === 'call' && o.name === 'size') return sizeOf(operandValue(item, o.args[0]))
  return undefined
}

function test(item: Item | undefined, c: Condition): boolean {
  switch (c.kind) {
    case 'and':
      return test(item, c.left) && test(item, c.right)
    case 'or':
      return test(item, c.left) || test(item, c.right)
    case 'not':
      return !test(item, c.arg)
    case 'compare': {
      const a = operandValue(item, c.left)
      const b = operandValue(item, c.right)
      if (c.op === '=') return equal(a, b)
      if (c.op === '<>') return !equal(a, b)
      const o = order(a, b)
      if (o === undefined) return false
      return c.op === '<' ? o < 0 : c.op === '<=' ? o <= 0 : c.op === '>' ? o > 0 : o >= 0
    }
    case 'between': {
      const v = operandValue(item, c.arg)
      const low = order(v, operandValue(item, c.low))
      const high = order(v, operandValue(item, c.high))
      return low !== undefined && high !== undefined && low >= 0 && high <= 0
    }
    case 'in': {
      const v = operandValue(item, c.arg)
      return c.list.some((o) => equal(v, operandValue(item, o)))
    }
    case 'call': {
      const [a, b] = c.args.map((o) => operandValue(item, o))
      switch (c.name) {
        case 'attribute_exists':
          return a !== undefined
        case 'attribute_not_exists':
          return a === undefined
        case 'attribute_type':
          return a !== undefined && b !== undefined && typeOf(a) === b.S
        case 'begins_with': {
          if (!a || !b || typeOf(a) !== typeOf(b) || !['S', 'B'].includes(typeOf(a))) return false
          const x = bytesOf(a)
          const y = bytesOf(b)
          return y.length <= x.length && y.every((n, i) => n === x[i])
        }
        case 'contains': {
          if (!a || !b) return false
          const t = typeOf(a)
          if (t === 'S') return typeOf(b) === 'S' && a.S.includes(b.S)
          if (t === 'B') {
            if (typeOf(b) !== 'B') return false
            const x = bytesOf(a).join(',')
            return `,${x},`.includes(`,${bytesOf(b).join(',')},`)
          }
          if (t === 'L') return a.L.some((e: AttributeValue) => equal(e, b))
          if (['SS', 'NS', 'BS'].includes(t)) {
            const member = t.slice(0, 1)
            return typeOf(b) === member && a[t].some((e: string) => equal({ [member]: e }, b))
          }
          return false
        }
      }
      return false
    }
  }
}

/** The value of an update operand, read from the item before the update. */
function updateValue(item: Item | undefined, o: Operand): AttributeValue {
  switch (o.kind) {
    case 'value':
      return o.value
    case 'path': {
      const v = resolve(item, o.path)
      if (!v) throw invalid(MISSING_OPERAND)
      return v
    }
    case 'arith': {
      const a = updateValue(item, o.left)
      const b = updateValue(item, o.right)
      if (!('N' in a) || !('N' in b)) throw invalid(BAD_OPERAND)
      const sign = o.op === '+' ? 1n : -1n
      return { N: formatNumber(addNumbers(parseNumber(a.N), parseNumber(b.N), sign)) }
    }
    case 'call': {
      if (o.name === 'if_not_exists') {
        const v = resolve(item, (o.args[0] as { path: Path }).path)
        return v ?? updateValue(item, o.args[1])
      }
      const a = updateValue(item, o.args[0])
      const b = updateValue(item, o.args[1])
      if (!('L' in a) || !('L' in b)) throw invalid(BAD_OPERAND)
      return { L: [...a.L, ...b.L] }
    }
  }
}

/** The container of the last step of a path, or undefined when the path cannot be set. */
function parentOf(item: Item, path: Path): AttributeValue | undefined {
  return path.length === 1 ? { M: item } : resolve(item, path.slice(0, -1))
}

function setPath(item: Item, path: Path, value: AttributeValue): void {
  const parent = parentOf(item, path)
  const last = path[path.length - 1]
  if (typeof last === 'number') {
    if (!parent?.L) throw invalid(BAD_PATH)
    if (last >= parent.L.length) parent.L.push(value)
    else parent.L[last] = value
  } else {
    if (!parent?.M) throw invalid(BAD_PATH)
    put(parent.M, last, value)
  }
}

function applyUpdate(old: Item | undefined, key: Item, actions: UpdateActions): Item {
  const item: Item = clone(old) ?? clone(key)
  // Every operand reads the item as it was before this update.
  const values = actions.set.map((a) => updateValue(old, a.value))
  actions.set.forEach((a, i) => {
    setPath(item, a.path, clone(values[i]))
  })
  // List elements are removed by their index before the update: highest first.
  const removals = [...actions.remove].sort((a, b) => {
    const x = a[a.length - 1]
    const y = b[b.length - 1]
    return typeof x === 'number' && typeof y === 'number' ? y - x : 0
  })
  for (const path of removals) {
    const parent = parentOf(item, path)
    const last = path[path.length - 1]
    // The element need not exist, but the map or list holding it must.
    if (typeof last === 'number') {
      if (!parent?.L) throw invalid(BAD_PATH)
      if (last < parent.L.length) parent.L.splice(last, 1)
    } else {
      if (!parent?.M) throw invalid(BAD_PATH)
      delete parent.M[last]
    }
  }
  for (const { path, value } of actions.add) {
    const current = resolve(item, path)
    const type = typeOf(value)
    if (!current) {
      setPath(item, path, clone(value))
    } else if (type === 'N' && 'N' in current) {
      setPath(item, path, {
        N: formatNumber(addNumbers(parseNumber(current.N), parseNumber(value.N), 1n)),
      })
    } else if (type !== 'N' && type in current) {
      const members = [...current[type]]
      for (const m of value[type])
        if (!members.some((x) => equal({ [type[0]]: x }, { [type[0]]: m }))) members.push(m)
      setPath(item, path, { [type]: members })
    } else {
      throw invalid(BAD_OPERAND)
    }
  }
  for (const { path, value } of actions.delete) {
    const current = resolve(item, path)
    const type = typeOf(value)
    if (!current) {
      // Nothing to delete from, but the path must still lead somewhere.
      const parent = parentOf(item, path)
      if (!parent || !(typeof path[path.length - 1] === 'number' ? parent.L : parent.M)) {
        throw invalid(BAD_PATH)
      }
      continue
    }
    if (!(type in current)) throw invalid(BAD_OPERAND)
    const members = current[type].filter(
      (x: string) => !value[type].some((m: string) => equal({ [type[0]]: x }, { [type[0]]: m })),
    )
    if (members.length) setPath(item, path, { [type]: members })
    else {
      const parent = parentOf(item, path)
      const last = path[path.length - 1]
      if (typeof last === 'number') parent?.L?.splice(last, 1)
      else delete parent?.M?.[last]
    }
  }
  return item
}

/** The paths of an item named by a projection, in the item's shape. */
function project(item: Item, paths: Path[]): Item {
  const out: AttributeValue = { M: {} }
  for (const path of paths) {
    const value = resolve(item, path)
    if (!value) continue
    let source: AttributeValue = { M: item }
    let target = out
    path.forEach((p, i) => {
      const last = i === path.length - 1
      if (typeof p === 'number') {
        const element = source.L[p]
        target.L ??= []
        // Projected list elements keep their order; positions close up.
        let slot = target.L.find((e: AttributeValue & { _i?: number }) => e._i === p)
        if (!slot) {
          slot = last ? clone(element) : { [typeOf(element)]: typeOf(element) === 'L' ? [] : {} }
          Object.defineProperty(slot, '_i', { value: p, enumerable: false })
          target.L.push(slot)
          target.L.sort((a: { _i: number }, b: { _i: number }) => a._i - b._i)
        }
        source = element
        target = slot
      } else {
        const element = own(source.M, p)
        target.M ??= {}
        if (last) put(target.M, p, clone(element))
        else if (!own(target.M, p)) {
          put(target.M, p, { [typeOf(element)]: typeOf(element) === 'L' ? [] : {} })
        }
        source = element
        target = target.M[p]
      }
    })
  }
  return clone(out.M)
}

// ---------------------------------------------------------------------------------------------
// Tables

interface KeyElement {
  AttributeName: string
  KeyType: 'HASH' | 'RANGE'
}

interface Table {
  name: string
  keySchema: KeyElement[]
  attributeDefinitions: { AttributeName: string; AttributeType: string }[]
  billingMode: string
  throughput: { ReadCapacityUnits: number; WriteCapacityUnits: number }
  created: number
  ttl: string | undefined
  items: Map<string, Item>
}

const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/

// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON requests
type Input = Record<string, any>

function describe(t: Table) {
  let size = 0
  for (const item of t.items.values()) size += itemSize(item)
  return {
    AttributeDefinitions: clone(t.attributeDefinitions),
    TableName: t.name,
    KeySchema: clone(t.keySchema),
    TableStatus: 'ACTIVE',
    CreationDateTime: t.created,
    ProvisionedThroughput: {
      LastIncreaseDateTime: 0,
      LastDecreaseDateTime: 0,
      NumberOfDecreasesToday: 0,
      ...t.throughput,
    },
    TableSizeBytes: size,
    ItemCount: t.items.size,
    TableArn: `arn:aws:dynamodb:ddblocal:000000000000:table/${t.name}`,
    ...(t.billingMode === 'PAY_PER_REQUEST'
      ? {
          BillingModeSummary: {
            BillingMode: 'PAY_PER_REQUEST',
            LastUpdateToPayPerRequestDateTime: t.created,
          },
        }
      : {}),
    DeletionProtectionEnabled: false,
  }
}

/** Validates a key against the table's schema; returns the normalised key and its map id. */
function checkKey(t: Table, key: Item, fromItem = false): { key: Item; id: string } {
  if (!fromItem && Object.keys(key).length !== t.keySchema.length) {
    throw invalid('The number of conditions on the keys is invalid')
  }
  const out: Item = {}
  for (const k of t.keySchema) {
    const v = key[k.AttributeName]
    if (!v) throw invalid('One of the required keys was not given a value')
    const type = t.attributeDefinitions.find(
      (d) => d.AttributeName === k.AttributeName,
    )?.AttributeType
    if (typeOf(v) !== type) {
      throw invalid('One or more parameter values were invalid: Type mismatch for key')
    }
    if ((type === 'S' || type === 'B') && v[type] === '') {
      throw invalid(
        `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${type === 'S' ? 'string' : 'binary'} value. Key: ${k.AttributeName}`,
      )
    }
    if (valueSize(v) > (k.KeyType === 'HASH' ? 2048 : 1024)) {
      throw invalid(
        'Hash primary key values must be under 2048 bytes, and range primary key values must be under 1024 bytes',
      )
    }
    out[k.AttributeName] = v
  }
  return { key: out, id: JSON.stringify(t.keySchema.map((k) => out[k.AttributeName])) }
}

const MAX_ITEM_BYTES = 400 * 1024

interface Capacity {
  TableName: string
  CapacityUnits: number
}

const writeUnits = (...items: (Item | undefined)[]) =>
  Math.max(1, ...items.map((i) => (i ? Math.ceil(itemSize(i) / 1024) : 1)))
const readUnits = (item: Item | undefined, consistent: boolean) =>
  (item ? Math.ceil(itemSize(item) / 4096) || 1 : 1) * (consistent ? 1 : 0.5)

// ---------------------------------------------------------------------------------------------
// The database

interface Write {
  table: Table
  id: string
  key: Item
  old: Item | undefined
  next: Item | undefined
}

/**
 * Creates an in-memory DynamoDB and the `fetch` that reaches it. Tables live as long as the
 * returned object; pass its `fetch` as the `fetch` option of `dynamoSession()`,
 * `createSessionTable()` and `sweepExpiredSessions()` (any region, endpoint and credentials).
 *
 * @returns `{ fetch, tables, reset }`
 * @example
 * ```ts
 * const db = memoryDynamoDB()
 * await createSessionTable({ table: 'sessions', region: 'local', endpoint: 'http://db.test',
 *   credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, fetch: db.fetch })
 * ```
 */
export function memoryDynamoDB(): MemoryDynamoDB {
  const tables = new Map<string, Table>()

  function tableOf(name: unknown): Table {
    checkTableName(name)
    const t = tables.get(name as string)
    if (!t) throw notFound()
    return t
  }

  function checkTableName(name: unknown): void {
    if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
      throw invalid(
        "Invalid table/index name.  Table/index names must be between 3 and 255 characters long, and may contain only the characters a-z, A-Z, 0-9, '_', '-', and '.'",
      )
    }
  }

  /** Validates names and values, parses the expressions, and checks that all were used. */
  function expressions(input: Input, which: Record<string, 'condition' | 'update' | 'projection'>) {
    const names = input.ExpressionAttributeNames
    const rawValues = input.ExpressionAttributeValues
    const present = Object.keys(which).filter((k) => input[k] != null)
    if (names && Object.keys(names).length === 0) {
      throw invalid('ExpressionAttributeNames must not be empty')
    }
    if (rawValues && Object.keys(rawValues).length === 0) {
      throw invalid('ExpressionAttributeValues must not be empty')
    }
    if (names && present.length === 0) {
      throw invalid('ExpressionAttributeNames can only be specified when using expressions')
    }
    if (rawValues && present.length === 0) {
      throw invalid('ExpressionAttributeValues can only be specified when using expressions')
    }
    for (const k of Object.keys(names ?? {})) {
      if (names[k] === '') {
        throw invalid(
          `ExpressionAttributeNames contains invalid value: Empty attribute name for key ${k}`,
        )
      }
    }
    let values: Record<string, AttributeValue> | undefined
    if (rawValues) {
      values = {}
      for (const k of Object.keys(rawValues)) {
        try {
          values[k] = checkValue(rawValues[k])
        } catch (error) {
          throw invalid(
            `ExpressionAttributeValues contains invalid value: ${(error as Error).message} for key ${k}`,
          )
        }
      }
    }
    const ctx = new ExpressionContext(names, values)
    const out: {
      condition?: Condition
      filter?: Condition
      update?: UpdateActions
      projection?: Path[]
    } = {}
    for (const field of present) {
      const label = `Invalid ${field}`.slice(8)
      if (which[field] === 'update') {
        out.update = parseExpression(
          label,
          input[field],
          ctx,
          (p) => p.update(),
          (p) => p.updateError(),
        )
      } else if (which[field] === 'projection') {
        out.projection = parseExpression(
          label,
          input[field],
          ctx,
          (p) => p.projection(),
          (p) => p.projectionError(),
        )
      } else {
        const c = parseExpression(
          label,
          input[field],
          ctx,
          (p) => p.condition(),
          (p) => p.conditionError(),
        )
        if (field === 'FilterExpression') out.filter = c
        else out.condition = c
      }
    }
    const unusedNames = Object.keys(names ?? {}).filter((k) => !ctx.usedNames.has(k))
    if (unusedNames.length) {
      throw invalid(
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`,
      )
    }
    const unusedValues = Object.keys(values ?? {}).filter((k) => !ctx.usedValues.has(k))
    if (unusedValues.length) {
      throw invalid(
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`,
      )
    }
    return out
  }

  function returnValues(input: Input, allowed: string[]): string {
    const r = input.ReturnValues ?? 'NONE'
    if (!allowed.includes(r)) throw invalid('Return values set to invalid value')
    return r
  }

  function onFailure(input: Input): boolean {
    const r = input.ReturnValuesOnConditionCheckFailure ?? 'NONE'
    if (r !== 'NONE' && r !== 'ALL_OLD') {
      throw invalid(
        `1 validation error detected: Value '${r}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]`,
      )
    }
    return r === 'ALL_OLD'
  }

  const capacity = (input: Input, table: string, units: number) =>
    input.ReturnConsumedCapacity === 'TOTAL' || input.ReturnConsumedCapacity === 'INDEXES'
      ? { ConsumedCapacity: { TableName: table, CapacityUnits: units } as Capacity }
      : {}

  /** Prepares one write (put, update, delete or condition check) without applying it. */
  function prepare(kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck', input: Input) {
    checkTableName(input.TableName)
    const item = kind === 'Put' ? checkItem(input.Item) : undefined
    const rawKey = kind === 'Put' ? undefined : checkItem(input.Key)
    const parsed = expressions(
      input,
      kind === 'Update'
        ? { UpdateExpression: 'update', ConditionExpression: 'condition' }
        : { ConditionExpression: 'condition' },
    )
    // An UpdateItem without an UpdateExpression creates the item with its key alone.
    if (kind === 'Update') parsed.update ??= { set: [], remove: [], add: [], delete: [] }
    const table = tableOf(input.TableName)
    const { key, id } = checkKey(table, (item ?? rawKey) as Item, kind === 'Put')
    if (parsed.update) {
      for (const a of [
        ...parsed.update.set.map((s) => s.path),
        ...parsed.update.remove,
        ...parsed.update.add.map((s) => s.path),
        ...parsed.update.delete.map((s) => s.path),
      ]) {
        if (a.length === 1 && table.keySchema.some((k) => k.AttributeName === a[0])) {
          throw invalid(
            `One or more parameter values were invalid: Cannot update attribute ${a[0]}. This attribute is part of the key`,
          )
        }
      }
    }
    if (item && itemSize(item) > MAX_ITEM_BYTES) {
      throw invalid('Item size has exceeded the maximum allowed size')
    }
    const old = table.items.get(id)
    const compute = (): Write => {
      let next: Item | undefined
      if (kind === 'Put') next = item
      else if (kind === 'Update') {
        next = applyUpdate(old, key, parsed.update as UpdateActions)
        if (itemSize(next) > MAX_ITEM_BYTES) {
          throw invalid('Item size to update has exceeded the maximum allowed size')
        }
      } else if (kind === 'ConditionCheck') next = old
      return { table, id, key, old, next }
    }
    const passes = () => !parsed.condition || test(old, parsed.condition)
    return { table, id, key, old, compute, passes, parsed }
  }

  function commit(w: Write): void {
    if (w.next) w.table.items.set(w.id, clone(w.next))
    else w.table.items.delete(w.id)
  }

  const operations: Record<string, (input: Input) => unknown> = {
    CreateTable(input) {
      checkTableName(input.TableName)
      const keySchema = input.KeySchema as KeyElement[] | undefined
      const defs = input.AttributeDefinitions as Table['attributeDefinitions'] | undefined
      if (!Array.isArray(keySchema) || keySchema.length < 1 || keySchema.length > 2) {
        throw invalid(
          "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null",
        )
      }
      if (keySchema[0].KeyType !== 'HASH' || (keySchema[1] && keySchema[1].KeyType !== 'RANGE')) {
        throw invalid('Invalid KeySchema: The first KeySchemaElement is not a HASH key type')
      }
      if (
        !Array.isArray(defs) ||
        defs.length !== keySchema.length ||
        keySchema.some(
          (k) =>
            !defs.some(
              (d) =>
                d.AttributeName === k.AttributeName && ['S', 'N', 'B'].includes(d.AttributeType),
            ),
        )
      ) {
        throw invalid(
          'One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions',
        )
      }
      const billingMode = input.BillingMode ?? 'PROVISIONED'
      const throughput = input.ProvisionedThroughput
      if (billingMode === 'PROVISIONED' && !throughput) {
        throw invalid(
          'One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED',
        )
      }
      if (tables.has(input.TableName)) {
        throw new DynamoError(`${DDB}ResourceInUseException`, 'Cannot create preexisting table')
      }
      const t: Table = {
        name: input.TableName,
        keySchema: clone(keySchema),
        attributeDefinitions: clone(defs),
        billingMode,
        throughput: {
          ReadCapacityUnits: throughput?.ReadCapacityUnits ?? 0,
          WriteCapacityUnits: throughput?.WriteCapacityUnits ?? 0,
        },
        created: Date.now() / 1000,
        ttl: undefined,
        items: new Map(),
      }
      tables.set(t.name, t)
      return { TableDescription: describe(t) }
    },
    DescribeTable: (input) => ({ Table: describe(tableOf(input.TableName)) }),
    DeleteTable(input) {
      const t = tableOf(input.TableName)
      tables.delete(t.name)
      return { TableDescription: describe(t) }
    },
    ListTables(input) {
      const names = [...tables.keys()].sort()
      const start = input.ExclusiveStartTableName
      const from = start ? names.filter((n) => n > start) : names
      const limit = input.Limit ?? 100
      if (limit < 1 || limit > 100) {
        throw invalid(
          `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value ${limit < 1 ? 'greater than or equal to 1' : 'less than or equal to 100'}`,
        )
      }
      const page = from.slice(0, limit)
      return {
        TableNames: page,
        ...(from.length > limit ? { LastEvaluatedTableName: page[page.length - 1] } : {}),
      }
    },
    UpdateTimeToLive(input) {
      const t = tableOf(input.TableName)
      const spec = input.TimeToLiveSpecification ?? {}
      if (spec.Enabled) {
        if (t.ttl === spec.AttributeName) throw invalid('TimeToLive is already enabled')
        if (t.ttl) throw invalid('TimeToLive is active on a different AttributeName')
        t.ttl = spec.AttributeName
      } else {
        if (!t.ttl) throw invalid('TimeToLive is already disabled')
        t.ttl = undefined
      }
      return {
        TimeToLiveSpecification: { Enabled: !!spec.Enabled, AttributeName: spec.AttributeName },
      }
    },
    DescribeTimeToLive(input) {
      const t = tableOf(input.TableName)
      return {
        TimeToLiveDescription: t.ttl
          ? { TimeToLiveStatus: 'ENABLED', AttributeName: t.ttl }
          : { TimeToLiveStatus: 'DISABLED' },
      }
    },
    GetItem(input) {
      checkTableName(input.TableName)
      const rawKey = checkItem(input.Key)
      const { projection } = expressions(input, { ProjectionExpression: 'projection' })
      const t = tableOf(input.TableName)
      const { id } = checkKey(t, rawKey)
      const item = t.items.get(id)
      const units = readUnits(item, input.ConsistentRead === true)
      return {
        ...(item ? { Item: projection ? project(item, projection) : clone(item) } : {}),
        ...capacity(input, t.name, units),
      }
    },
    PutItem(input) {
      const r = returnValues(input, ['NONE', 'ALL_OLD'])
      const w = prepare('Put', input)
      const withOld = onFailure(input)
      if (!w.passes()) throw conditionFailed(withOld ? clone(w.old) : undefined)
      const done = w.compute()
      commit(done)
      return {
        ...(r === 'ALL_OLD' && w.old ? { Attributes: clone(w.old) } : {}),
        ...capacity(input, w.table.name, writeUnits(w.old, done.next)),
      }
    },
    UpdateItem(input) {
      const r = returnValues(input, ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'])
      const w = prepare('Update', input)
      const withOld = onFailure(input)
      if (!w.passes()) throw conditionFailed(withOld ? clone(w.old) : undefined)
      const done = w.compute()
      commit(done)
      let attributes: Item | undefined
      if (r === 'ALL_OLD') attributes = w.old
      else if (r === 'ALL_NEW') attributes = done.next
      else if (r !== 'NONE') {
        // As DynamoDB Local: the whole top-level attribute of every updated path that exists.
        const source = (r === 'UPDATED_OLD' ? w.old : done.next) ?? {}
        const u = w.parsed.update as UpdateActions
        const paths = [
          ...u.set.map((a) => a.path),
          ...u.remove,
          ...u.add.map((a) => a.path),
          ...u.delete.map((a) => a.path),
        ]
        attributes = {}
        for (const p of paths) {
          if (resolve(source, p)) put(attributes, p[0] as string, source[p[0] as string])
        }
      }
      return {
        ...(attributes && Object.keys(attributes).length ? { Attributes: clone(attributes) } : {}),
        ...capacity(input, w.table.name, writeUnits(w.old, done.next)),
      }
    },
    DeleteItem(input) {
      const r = returnValues(input, ['NONE', 'ALL_OLD'])
      const w = prepare('Delete', input)
      const withOld = onFailure(input)
      if (!w.passes()) throw conditionFailed(withOld ? clone(w.old) : undefined)
      commit(w.compute())
      return {
        ...(r === 'ALL_OLD' && w.old ? { Attributes: clone(w.old) } : {}),
        ...capacity(input, w.table.name, writeUnits(w.old)),
      }
    },
    TransactWriteItems(input) {
      const list = input.TransactItems
      if (!Array.isArray(list) || list.length < 1) {
        throw invalid(
          `Value ${JSON.stringify(list ?? null)} at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1`,
        )
      }
      if (list.length > 100) {
        throw invalid(
          "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100",
        )
      }
      const prepared = list.map((entry: Input) => {
        const kinds = (['Put', 'Update', 'Delete', 'ConditionCheck'] as const).filter(
          (k) => entry?.[k],
        )
        if (kinds.length !== 1) {
          throw invalid('TransactItems can only contain one of Check, Put, Update or Delete')
        }
        const kind = kinds[0]
        if (kind === 'ConditionCheck' && !entry[kind].ConditionExpression) {
          throw invalid('The ConditionExpression of a ConditionCheck must not be empty')
        }
        return { kind, w: prepare(kind, entry[kind]), withOld: onFailure(entry[kind]) }
      })
      const ids = new Set(prepared.map((p) => `${p.w.table.name}\u0000${p.w.id}`))
      if (ids.size !== prepared.length) {
        throw invalid('Transaction request cannot include multiple operations on one item')
      }
      const reasons = prepared.map((p) =>
        p.w.passes()
          ? { Code: 'None' }
          : {
              ...(p.withOld && p.w.old ? { Item: clone(p.w.old) } : {}),
              Code: 'ConditionalCheckFailed',
              Message: 'The conditional request failed',
            },
      )
      if (reasons.some((r) => r.Code !== 'None')) {
        throw new DynamoError(
          `${DDB}TransactionCanceledException`,
          `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
          { CancellationReasons: reasons },
        )
      }
      const writes = prepared.map((p) => ({ ...p, done: p.w.compute() }))
      const units = new Map<string, { read: number; write: number }>()
      for (const { kind, w, done } of writes) {
        const u = units.get(w.table.name) ?? { read: 0, write: 0 }
        if (kind === 'ConditionCheck') u.read += 2 * readUnits(w.old, true)
        else u.write += 2 * writeUnits(w.old, done.next)
        units.set(w.table.name, u)
        if (kind !== 'ConditionCheck') commit(done)
      }
      return input.ReturnConsumedCapacity === 'TOTAL' || input.ReturnConsumedCapacity === 'INDEXES'
        ? {
            ConsumedCapacity: [...units].map(([TableName, u]) => ({
              TableName,
              CapacityUnits: u.read + u.write,
              ...(u.read ? { ReadCapacityUnits: u.read } : {}),
              ...(u.write ? { WriteCapacityUnits: u.write } : {}),
            })),
          }
        : {}
    },
    BatchWriteItem(input) {
      const requests = input.RequestItems
      const names = Object.keys(requests ?? {})
      if (names.length === 0) throw invalid('BatchWriteItem cannot have a null or no requests set')
      const total = names.reduce((n, k) => n + (requests[k]?.length ?? 0), 0)
      if (total > 25) {
        throw invalid(
          "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length less than or equal to 25",
        )
      }
      const writes: { w: Write; units: number }[] = []
      for (const name of names) {
        const seen = new Set<string>()
        for (const r of requests[name]) {
          const put = r?.PutRequest
          const del = r?.DeleteRequest
          if (!!put === !!del) {
            throw invalid(
              'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
            )
          }
          const w = put
            ? prepare('Put', { TableName: name, Item: put.Item })
            : prepare('Delete', { TableName: name, Key: del.Key })
          if (seen.has(w.id)) throw invalid('Provided list of item keys contains duplicates')
          seen.add(w.id)
          const done = w.compute()
          // DynamoDB Local charges 2 units for a batch delete of a missing item.
          const units = !put && !w.old ? 2 : writeUnits(w.old, done.next)
          writes.push({ w: done, units })
        }
      }
      const units = new Map<string, number>()
      for (const { w, units: n } of writes) {
        commit(w)
        units.set(w.table.name, (units.get(w.table.name) ?? 0) + n)
      }
      return {
        UnprocessedItems: {},
        ...(input.ReturnConsumedCapacity === 'TOTAL' || input.ReturnConsumedCapacity === 'INDEXES'
          ? {
              ConsumedCapacity: [...units].map(([TableName, CapacityUnits]) => ({
                TableName,
                CapacityUnits,
              })),
            }
          : {}),
      }
    },
    Scan(input) {
      checkTableName(input.TableName)
      if (input.Limit !== undefined && !(input.Limit >= 1)) {
        throw invalid('Limit must be greater than or equal to 1')
      }
      const { filter, projection } = expressions(input, {
        FilterExpression: 'condition',
        ProjectionExpression: 'projection',
      })
      const t = tableOf(input.TableName)
      let startId: string | undefined
      if (input.ExclusiveStartKey) {
        startId = checkKey(t, checkItem(input.ExclusiveStartKey)).id
      }
      // A stable order, so that a page can start after any key, even a deleted one.
      const ids = [...t.items.keys()].sort()
      const from = startId === undefined ? 0 : ids.findIndex((id) => id > startId)
      const items: Item[] = []
      let scanned = 0
      let bytes = 0
      let last: string | undefined
      for (let i = from; i >= 0 && i < ids.length; i++) {
        const item = t.items.get(ids[i]) as Item
        scanned++
        bytes += itemSize(item)
        last = ids[i]
        if (!filter || test(item, filter)) {
          items.push(projection ? project(item, projection) : clone(item))
        }
        if (scanned === input.Limit || bytes >= 1024 * 1024) break
      }
      const more =
        last !== undefined && (scanned === input.Limit || bytes >= 1024 * 1024)
          ? checkKey(t, t.items.get(last) as Item, true).key
          : undefined
      const count = input.Select === 'COUNT'
      return {
        ...(count ? {} : { Items: items }),
        Count: items.length,
        ScannedCount: scanned,
        ...(more ? { LastEvaluatedKey: clone(more) } : {}),
        ...capacity(
          input,
          t.name,
          (Math.ceil(bytes / 4096) || 1) * (input.ConsistentRead === true ? 1 : 0.5),
        ),
      }
    },
  }

  async function handle(request: Request): Promise<Response> {
    const target = request.headers.get('x-amz-target') ?? ''
    const operation = target.startsWith('DynamoDB_20120810.') ? target.slice(18) : ''
    const text = await request.text()
    let status = 200
    let body: unknown
    try {
      const run = Object.hasOwn(operations, operation) ? operations[operation] : undefined
      if (!run) {
        throw new DynamoError('com.amazon.coral.service#UnknownOperationException', '')
      }
      let input: Input
      try {
        input = text ? JSON.parse(text) : {}
      } catch {
        throw new DynamoError(
          'com.amazon.coral.service#SerializationException',
          'Start of structure or map found where not expected.',
        )
      }
      if (!input || typeof input !== 'object') input = {}
      body = run(input)
    } catch (error) {
      if (!(error instanceof DynamoError)) throw error
      status = 400
      body = { __type: error.type, Message: error.message, ...error.extra }
      if (error.type.endsWith('UnknownOperationException')) body = { __type: error.type }
    }
    return new Response(JSON.stringify(body), {
      status,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': crypto.randomUUID(),
      },
    })
  }

  const memoryFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    request.signal.throwIfAborted()
    return handle(request)
  }

  const view = new Map<string, MemoryTable>()
  const refresh = () => {
    view.clear()
    for (const t of tables.values()) {
      view.set(t.name, {
        name: t.name,
        keySchema: t.keySchema,
        get ttlAttribute() {
          return t.ttl
        },
        get items() {
          return [...t.items.values()].map(clone)
        },
      })
    }
    return view
  }

  return {
    fetch: memoryFetch as typeof fetch,
    get tables() {
      return refresh()
    },
    reset() {
      tables.clear()
    },
  }
}

// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html
// biome-ignore format: one long list of words
const RESERVED = new Set(
  (
    'ABORT ABSOLUTE ACTION ADD AFTER AGENT AGGREGATE ALL ALLOCATE ALTER ANALYZE AND ANY ARCHIVE ' +
    'ARE ARRAY AS ASC ASCII ASENSITIVE ASSERTION ASYMMETRIC AT ATOMIC ATTACH ATTRIBUTE AUTH ' +
    'AUTHORIZATION AUTHORIZE AUTO AVG BACK BACKUP BASE BATCH BEFORE BEGIN BETWEEN BIGINT BINARY ' +
    'BIT BLOB BLOCK BOOLEAN BOTH BREADTH BUCKET BULK BY BYTE CALL CALLED CALLING CAPACITY ' +
    'CASCADE CASCADED CASE CAST CATALOG CHAR CHARACTER CHECK CLASS CLOB CLOSE CLUSTER CLUSTERED ' +
    'CLUSTERING CLUSTERS COALESCE COLLATE COLLATION COLLECTION COLUMN COLUMNS COMBINE COMMENT ' +
    'COMMIT COMPACT COMPILE COMPRESS CONDITION CONFLICT CONNECT CONNECTION CONSISTENCY ' +
    'CONSISTENT CONSTRAINT CONSTRAINTS CONSTRUCTOR CONSUMED CONTINUE CONVERT COPY CORRESPONDING ' +
    'COUNT COUNTER CREATE CROSS CUBE CURRENT CURSOR CYCLE DATA DATABASE DATE DATETIME DAY ' +
    'DEALLOCATE DEC DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DEFINE DEFINED DEFINITION ' +
    'DELETE DELIMITED DEPTH DEREF DESC DESCRIBE DESCRIPTOR DETACH DETERMINISTIC DIAGNOSTICS ' +
    'DIRECTORIES DISABLE DISCONNECT DISTINCT DISTRIBUTE DO DOMAIN DOUBLE DROP DUMP DURATION ' +
    'DYNAMIC EACH ELEMENT ELSE ELSEIF EMPTY ENABLE END EQUAL EQUALS ERROR ESCAPE ESCAPED EVAL ' +
    'EVALUATE EXCEEDED EXCEPT EXCEPTION EXCEPTIONS EXCLUSIVE EXEC EXECUTE EXISTS EXIT EXPLAIN ' +
    'EXPLODE EXPORT EXPRESSION EXTENDED EXTERNAL EXTRACT FAIL FALSE FAMILY FETCH FIELDS FILE ' +
    'FILTER FILTERING FINAL FINISH FIRST FIXED FLATTERN FLOAT FOR FORCE FOREIGN FORMAT FORWARD ' +
    'FOUND FREE FROM FULL FUNCTION FUNCTIONS GENERAL GENERATE GET GLOB GLOBAL GO GOTO GRANT ' +
    'GREATER GROUP GROUPING HANDLER HASH HAVE HAVING HEAP HIDDEN HOLD HOUR IDENTIFIED IDENTITY ' +
    'IF IGNORE IMMEDIATE IMPORT IN INCLUDING INCLUSIVE INCREMENT INCREMENTAL INDEX INDEXED ' +
    'INDEXES INDICATOR INFINITE INITIALLY INLINE INNER INNTER INOUT INPUT INSENSITIVE INSERT ' +
    'INSTEAD INT INTEGER INTERSECT INTERVAL INTO INVALIDATE IS ISOLATION ITEM ITEMS ITERATE ' +
    'JOIN KEY KEYS LAG LANGUAGE LARGE LAST LATERAL LEAD LEADING LEAVE LEFT LENGTH LESS LEVEL ' +
    'LIKE LIMIT LIMITED LINES LIST LOAD LOCAL LOCALTIME LOCALTIMESTAMP LOCATION LOCATOR LOCK ' +
    'LOCKS LOG LOGED LONG LOOP LOWER MAP MATCH MATERIALIZED MAX MAXLEN MEMBER MERGE METHOD ' +
    'METRICS MIN MINUS MINUTE MISSING MOD MODE MODIFIES MODIFY MODULE MONTH MULTI MULTISET NAME ' +
    'NAMES NATIONAL NATURAL NCHAR NCLOB NEW NEXT NO NONE NOT NULL NULLIF NUMBER NUMERIC OBJECT ' +
    'OF OFFLINE OFFSET OLD ON ONLINE ONLY OPAQUE OPEN OPERATOR OPTION OR ORDER ORDINALITY OTHER ' +
    'OTHERS OUT OUTER OUTPUT OVER OVERLAPS OVERRIDE OWNER PAD PARALLEL PARAMETER PARAMETERS ' +
    'PARTIAL PARTITION PARTITIONED PARTITIONS PATH PERCENT PERCENTILE PERMISSION PERMISSIONS ' +
    'PIPE PIPELINED PLAN POOL POSITION PRECISION PREPARE PRESERVE PRIMARY PRIOR PRIVATE ' +
    'PRIVILEGES PROCEDURE PROCESSED PROJECT PROJECTION PROPERTY PROVISIONING PUBLIC PUT QUERY ' +
    'QUIT QUORUM RAISE RANDOM RANGE RANK RAW READ READS REAL REBUILD RECORD RECURSIVE REDUCE ' +
    'REF REFERENCE REFERENCES REFERENCING REGEXP REGION REINDEX RELATIVE RELEASE REMAINDER ' +
    'RENAME REPEAT REPLACE REQUEST RESET RESIGNAL RESOURCE RESPONSE RESTORE RESTRICT RESULT ' +
    'RETURN RETURNING RETURNS REVERSE REVOKE RIGHT ROLE ROLES ROLLBACK ROLLUP ROUTINE ROW ROWS ' +
    'RULE RULES SAMPLE SATISFIES SAVE SAVEPOINT SCAN SCHEMA SCOPE SCROLL SEARCH SECOND SECTION ' +
    'SEGMENT SEGMENTS SELECT SELF SEMI SENSITIVE SEPARATE SEQUENCE SERIALIZABLE SESSION SET ' +
    'SETS SHARD SHARE SHARED SHORT SHOW SIGNAL SIMILAR SIZE SKEWED SMALLINT SNAPSHOT SOME ' +
    'SOURCE SPACE SPACES SPARSE SPECIFIC SPECIFICTYPE SPLIT SQL SQLCODE SQLERROR SQLEXCEPTION ' +
    'SQLSTATE SQLWARNING START STATE STATIC STATUS STORAGE STORE STORED STREAM STRING STRUCT ' +
    'STYLE SUB SUBMULTISET SUBPARTITION SUBSTRING SUBTYPE SUM SUPER SYMMETRIC SYNONYM SYSTEM ' +
    'TABLE TABLESAMPLE TEMP TEMPORARY TERMINATED TEXT THAN THEN THROUGHPUT TIME TIMESTAMP ' +
    'TIMEZONE TINYINT TO TOKEN TOTAL TOUCH TRAILING TRANSACTION TRANSFORM TRANSLATE TRANSLATION ' +
    'TREAT TRIGGER TRIM TRUE TRUNCATE TTL TUPLE TYPE UNDER UNDO UNION UNIQUE UNIT UNKNOWN ' +
    'UNLOGGED UNNEST UNPROCESSED UNSIGNED UNTIL UPDATE UPPER URL USAGE USE USER USERS USING ' +
    'UUID VACUUM VALUE VALUED VALUES VARCHAR VARIABLE VARIANCE VARINT VARYING VIEW VIEWS ' +
    'VIRTUAL VOID WAIT WHEN WHENEVER WHERE WHILE WINDOW WITH WITHIN WITHOUT WORK WRAPPED WRITE ' +
    'YEAR ZONE '
  ).split(' '),
)
