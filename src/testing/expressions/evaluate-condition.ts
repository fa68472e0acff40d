/**
 * @module Evaluates a parsed condition, filter or key expression against an item.
 */
import {
  type AttributeValue,
  base64Length,
  bytesOf,
  equal,
  type Item,
  order,
  typeOf,
} from '../values.ts'
import type { Condition, Operand } from './ast.ts'
import { resolve } from './document.ts'

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

export function test(item: Item | undefined, c: Condition): boolean {
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
