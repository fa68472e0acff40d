/**
 * @module The grammar of condition, filter and key expressions, and their semantic checks
 * (functions, operand types, distinct operands), in DynamoDB's order of precedence.
 */
import type { AttributeValue } from '../values.ts'
import { order, TYPES, typeOf } from '../values.ts'
import { CONDITION_FUNCTIONS, type Condition, type Operand, pathText } from './ast.ts'
import type { Parser } from './parser.ts'

export function condition(p: Parser): Condition {
  let left = conjunction(p)
  while (p.is('OR')) {
    p.next()
    p.operator()
    left = { kind: 'or', left, right: conjunction(p) }
  }
  return left
}

function conjunction(p: Parser): Condition {
  let left = negation(p)
  while (p.is('AND')) {
    p.next()
    p.operator()
    left = { kind: 'and', left, right: negation(p) }
  }
  return left
}

function negation(p: Parser): Condition {
  if (p.is('NOT')) {
    p.next()
    p.operator()
    return { kind: 'not', arg: negation(p) }
  }
  return comparison(p)
}

function comparison(p: Parser): Condition {
  if (p.is('(')) {
    p.next()
    const inner = condition(p)
    p.expect(')')
    return inner
  }
  const left = p.operand()
  const t = p.peek()
  if (t.kind === 'op' && ['=', '<>', '<', '<=', '>', '>='].includes(t.text)) {
    p.next()
    p.operator()
    const right = p.operand()
    checkOperand(p, left)
    checkOperand(p, right)
    distinct(p, t.text, [left, right])
    return { kind: 'compare', op: t.text, left, right }
  }
  if (p.is('BETWEEN')) {
    p.next()
    p.operator()
    const low = p.operand()
    p.expect('AND')
    const high = p.operand()
    for (const o of [left, low, high]) checkOperand(p, o)
    distinct(p, 'BETWEEN', [left, low, high])
    if (low.kind === 'value' && high.kind === 'value') {
      const show = (v: AttributeValue) => `AttributeValue: {${typeOf(v)}:${v[typeOf(v)]}}`
      if (typeOf(low.value) !== typeOf(high.value)) {
        p.fail(
          'function',
          `The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: ${show(low.value)}, upper bound operand: ${show(high.value)}`,
        )
      } else if ((order(low.value, high.value) ?? 0) > 0) {
        p.fail(
          'function',
          `The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: ${show(low.value)}, upper bound operand: ${show(high.value)}`,
        )
      }
    }
    return { kind: 'between', arg: left, low, high }
  }
  if (p.is('IN')) {
    p.next()
    p.operator()
    const list = p.args()
    for (const o of [left, ...list]) checkOperand(p, o)
    distinct(p, 'IN', [left, ...list])
    return { kind: 'in', arg: left, list }
  }
  if (left.kind === 'call') {
    checkFunction(p, left.name, left.args)
    if (left.name === 'size') {
      p.fail(
        'misusedFunction',
        `The function is not allowed to be used this way in an expression; function: ${left.name}`,
      )
    }
    return { kind: 'call', name: left.name, args: left.args }
  }
  p.syntaxError()
}

/** An operand of a comparison must be a path, a value or size(). */
function checkOperand(p: Parser, o: Operand): void {
  if (o.kind !== 'call') return
  checkFunction(p, o.name, o.args)
  if (o.name !== 'size' && o.name in CONDITION_FUNCTIONS) {
    p.fail(
      'misusedFunction',
      `The function is not allowed to be used this way in an expression; function: ${o.name}`,
    )
  }
}

function distinct(p: Parser, operator: string, operands: Operand[]): void {
  const key = (o: Operand) => JSON.stringify(o.kind === 'path' ? o.path : o)
  const first = key(operands[0])
  if (operands.slice(1).some((o) => key(o) === first)) {
    const shown =
      operands[0].kind === 'path'
        ? pathText(operands[0].path)
        : operands[0].kind === 'value'
          ? operands[0].name
          : operands[0].kind
    p.fail(
      'distinct',
      `The first operand must be distinct from the remaining operands for this operator or function; operator: ${operator}, first operand: ${shown}`,
    )
  }
}

function checkFunction(p: Parser, name: string, args: Operand[]): void {
  const arity = CONDITION_FUNCTIONS[name]
  if (arity === undefined) {
    p.fail('unknownFunction', `Invalid function name; function: ${name}`)
    return
  }
  if (arity !== args.length) {
    p.fail(
      'operand',
      `Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`,
    )
    return
  }
  for (const a of args) if (a.kind === 'call') checkOperand(p, a)
  distinct(p, name, args)
  const literal = (o: Operand) => (o.kind === 'value' ? typeOf(o.value) : undefined)
  const wrongType = (type: string) =>
    p.fail(
      'function',
      `Incorrect operand type for operator or function; operator or function: ${name}, operand type: ${type}`,
    )
  switch (name) {
    case 'attribute_exists':
    case 'attribute_not_exists':
      if (args[0].kind !== 'path') {
        p.fail(
          'function',
          `Operator or function requires a document path; operator or function: ${name}`,
        )
      }
      break
    case 'attribute_type': {
      if (args[0].kind !== 'path') {
        p.fail(
          'function',
          `Operator or function requires a document path; operator or function: ${name}`,
        )
        break
      }
      const type = literal(args[1])
      if (type !== 'S') wrongType(type ?? 'M')
      else if (!TYPES.includes((args[1] as { value: AttributeValue }).value.S)) {
        p.fail(
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
const CONDITION_ERRORS = [
  'unknownFunction',
  'misusedFunction',
  'reserved',
  'pathDepth',
  'attrName',
  'attrVal',
  'operand',
  'distinct',
  'function',
]

export function conditionError(p: Parser): string | undefined {
  return p.firstError(CONDITION_ERRORS)
}

/** A key condition's errors: as a condition's, but its operands need not be distinct. */
export function keyConditionError(p: Parser): string | undefined {
  return p.firstError(CONDITION_ERRORS.filter((kind) => kind !== 'distinct'))
}
