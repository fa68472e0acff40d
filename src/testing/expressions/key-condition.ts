/**
 * @module A Query's KeyConditionExpression, parsed as a condition, checked for what a key
 * condition may hold (an equality on the hash key, at most one comparison, BETWEEN or
 * begins_with on the range key) and evaluated against a key.
 */
import type { KeyElement } from '../database.ts'
import { invalid } from '../errors.ts'
import { type AttributeValue, bytesOf, type Item, order, own, typeOf } from '../values.ts'
import type { Condition, Operand } from './ast.ts'

export type RangeOperator = '=' | '<' | '<=' | '>' | '>=' | 'BETWEEN' | 'begins_with'

/** One condition on one key attribute. */
interface KeyTerm {
  name: string
  op: RangeOperator
  values: AttributeValue[]
}

/** A checked key condition: the hash key's value, and the range key's condition if any. */
export interface KeyCondition {
  hash: { name: string; value: AttributeValue }
  range?: KeyTerm
}

const FLIPPED: Record<string, RangeOperator> = {
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
  '=': '=',
}

/** The conditions joined by AND, in order. */
function terms(c: Condition): Condition[] {
  if (c.kind === 'and') return [...terms(c.left), ...terms(c.right)]
  return [c]
}

/** Refuses an operator a key condition cannot hold. */
function operatorOf(c: Condition): string | undefined {
  if (c.kind === 'or') return 'OR'
  if (c.kind === 'not') return 'NOT'
  if (c.kind === 'in') return 'IN'
  if (c.kind === 'compare' && c.op === '<>') return '<>'
  if (c.kind === 'call' && c.name !== 'begins_with') return c.name
  return undefined
}

/** The key attribute an operand names (a top-level name), after the checks on it. */
function nameOf(o: Operand, keys: KeyElement[], label: string): string | undefined {
  if (o.kind === 'call' || o.kind === 'arith') {
    throw invalid('KeyConditionExpressions cannot contain nested operations')
  }
  if (o.kind !== 'path') return undefined
  const first = String(o.path[0])
  if (o.path.length > 1) {
    if (keys.some((k) => k.AttributeName === first)) {
      throw invalid(
        `Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: ${label}: ${first}`,
      )
    }
    throw invalid('KeyConditionExpressions cannot have conditions on nested attributes')
  }
  return first
}

/** One term of the key condition as a name, an operator and values. */
function termOf(c: Condition, keys: KeyElement[], label: string): KeyTerm {
  const operator = operatorOf(c)
  if (operator) throw invalid(`Invalid operator used in KeyConditionExpression: ${operator}`)
  const operands =
    c.kind === 'compare'
      ? [c.left, c.right]
      : c.kind === 'between'
        ? [c.arg, c.low, c.high]
        : (c as { args: Operand[] }).args
  const names = operands.map((o) => nameOf(o, keys, label))
  const named = names.filter((n) => n !== undefined)
  if (named.length === 0) {
    throw invalid('Invalid condition in KeyConditionExpression: No key attribute specified')
  }
  if (named.length > 1) {
    throw invalid(
      'Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition',
    )
  }
  const values = operands.filter((o) => o.kind === 'value').map((o) => o.value)
  if (c.kind === 'compare') {
    const op = c.op as RangeOperator
    return { name: named[0] as string, op: names[0] ? op : FLIPPED[op], values }
  }
  return { name: named[0] as string, op: c.kind === 'between' ? 'BETWEEN' : 'begins_with', values }
}

/** Checks a parsed key condition against the key schema of the table or index queried. */
export function checkKeyCondition(
  c: Condition,
  keys: KeyElement[],
  typeOfKey: (name: string) => string | undefined,
  onIndex: boolean,
): KeyCondition {
  const all = terms(c).map((t) => termOf(t, keys, onIndex ? 'IndexKey' : 'Key'))
  const names = all.map((t) => t.name)
  if (new Set(names).size !== names.length) {
    throw invalid('KeyConditionExpressions must only contain one condition per key')
  }
  const [hashKey, rangeKey] = keys
  const hash = all.find((t) => t.name === hashKey.AttributeName)
  const range = all.find((t) => t.name === rangeKey?.AttributeName)
  if (!hash || all.length > (range ? 2 : 1)) {
    throw invalid('Query condition missed key schema element')
  }
  if (hash.op !== '=') throw invalid('Query key condition not supported')
  for (const t of all) {
    if (t.values.some((v) => typeOf(v) !== typeOfKey(t.name))) {
      throw invalid(
        'One or more parameter values were invalid: Condition parameter type does not match schema type',
      )
    }
  }
  return { hash: { name: hash.name, value: hash.values[0] }, range }
}

/** Whether a range key value meets the range condition. */
export function inRange(value: AttributeValue | undefined, range: KeyTerm | undefined): boolean {
  if (!range) return true
  if (!value) return false
  const [a, b] = range.values
  const o = order(value, a) ?? Number.NaN
  switch (range.op) {
    case '=':
      return o === 0
    case '<':
      return o < 0
    case '<=':
      return o <= 0
    case '>':
      return o > 0
    case '>=':
      return o >= 0
    case 'BETWEEN':
      return o >= 0 && (order(value, b) ?? Number.NaN) <= 0
    case 'begins_with': {
      const x = bytesOf(value)
      const y = bytesOf(a)
      return y.length <= x.length && y.every((n, i) => n === x[i])
    }
  }
}

/** Whether an item or an index entry matches the whole key condition. */
export const matches = (item: Item, kc: KeyCondition): boolean =>
  order(own(item, kc.hash.name), kc.hash.value) === 0 &&
  inRange(own(item, kc.range?.name ?? ''), kc.range)
