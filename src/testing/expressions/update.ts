/**
 * @module The grammar of update expressions (SET, REMOVE, ADD, DELETE) and their semantic
 * checks, in DynamoDB's order of precedence.
 */
import { typeOf } from '../values.ts'
import {
  CONDITION_FUNCTIONS,
  type Operand,
  type Path,
  typeName,
  type UpdateActions,
} from './ast.ts'
import type { Parser } from './parser.ts'

export function update(p: Parser): UpdateActions {
  const actions: UpdateActions = { set: [], remove: [], add: [], delete: [] }
  const seen = new Set<string>()
  const paths: Path[] = []
  do {
    const keyword = p.peek()
    const section = keyword.text.toUpperCase()
    if (keyword.kind !== 'name' || !['SET', 'REMOVE', 'ADD', 'DELETE'].includes(section)) {
      p.syntaxError()
    }
    p.next()
    if (seen.has(section)) {
      p.fail('section', `The "${section}" section can only be used once in an update expression;`)
    }
    seen.add(section)
    for (;;) {
      const target = p.path()
      p.checkPath(paths, target.path)
      if (section === 'SET') {
        p.expect('=')
        actions.set.push({ path: target.path, value: setValue(p) })
      } else if (section === 'REMOVE') {
        actions.remove.push(target.path)
      } else {
        if (p.peek().kind !== 'value') p.syntaxError()
        const value = p.value() as Operand & { kind: 'value' }
        const type = typeOf(value.value)
        const allowed = section === 'ADD' ? ['N', 'SS', 'NS', 'BS'] : ['SS', 'NS', 'BS']
        if (!p.errors.attrVal && !allowed.includes(type)) {
          p.fail(
            'operand',
            `Incorrect operand type for operator or function; operator: ${section}, operand type: ${typeName[type]}, typeSet: ALLOWED_FOR_${section}_OPERAND`,
          )
        }
        ;(section === 'ADD' ? actions.add : actions.delete).push({
          path: target.path,
          value: value.value,
        })
      }
      if (!p.is(',')) break
      p.next()
    }
  } while (p.peek().kind !== 'eof')
  return actions
}

function setValue(p: Parser): Operand {
  const left = setOperand(p)
  if (p.is('+') || p.is('-')) {
    const op = p.next().text as '+' | '-'
    p.operator()
    const right = setOperand(p)
    for (const o of [left, right]) {
      if (o.kind === 'value' && typeOf(o.value) !== 'N' && !p.errors.attrVal) {
        p.fail(
          'function',
          `Incorrect operand type for operator or function; operator or function: ${op}, operand type: ${typeOf(o.value)}`,
        )
      }
    }
    return { kind: 'arith', op, left, right }
  }
  return left
}

function setOperand(p: Parser): Operand {
  const t = p.peek()
  if (t.kind === 'value') return p.value()
  if (t.kind === 'name' && p.is('(', 1)) {
    p.next()
    p.operator()
    const name = t.text
    const args = p.args().map((a) => a)
    if (name === 'if_not_exists' || name === 'list_append') {
      if (args.length !== 2) {
        p.fail(
          'function',
          `Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`,
        )
      } else if (name === 'if_not_exists' && args[0].kind !== 'path') {
        p.fail(
          'function',
          `Operator or function requires a document path; operator or function: ${name}`,
        )
      } else if (name === 'list_append') {
        for (const a of args) {
          if (a.kind === 'value' && typeOf(a.value) !== 'L' && !p.errors.attrVal) {
            p.fail(
              'function',
              `Incorrect operand type for operator or function; operator or function: ${name}, operand type: ${typeOf(a.value)}`,
            )
          }
        }
      }
    } else if (name in CONDITION_FUNCTIONS) {
      p.fail(
        'unknownFunction',
        `The function is not allowed in an update expression; function: ${name}`,
      )
    } else {
      p.fail('unknownFunction', `Invalid function name; function: ${name}`)
    }
    return { kind: 'call', name, args }
  }
  return p.path()
}

export function updateError(p: Parser): string | undefined {
  return p.firstError([
    'reserved',
    'unknownFunction',
    'section',
    'pathDepth',
    'attrName',
    'attrVal',
    'pathOverlap',
    'pathConflict',
    'operand',
    'function',
  ])
}
