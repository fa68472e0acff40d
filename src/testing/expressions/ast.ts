/**
 * @module The parsed forms of condition, update and projection expressions, and the request's
 * expression attribute names and values they draw on.
 */
import type { AttributeValue } from '../values.ts'

/** A resolved document path: attribute names and list indexes. */
export type Path = (string | number)[]

export type Operand =
  | { kind: 'path'; path: Path; text: string }
  | { kind: 'value'; name: string; value: AttributeValue }
  | { kind: 'call'; name: string; args: Operand[] }
  | { kind: 'arith'; op: '+' | '-'; left: Operand; right: Operand }

export type Condition =
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; arg: Condition }
  | { kind: 'compare'; op: string; left: Operand; right: Operand }
  | { kind: 'between'; arg: Operand; low: Operand; high: Operand }
  | { kind: 'in'; arg: Operand; list: Operand[] }
  | { kind: 'call'; name: string; args: Operand[] }

/** The names and values of one request, and which of them were used. */
export class ExpressionContext {
  usedNames: Set<string> = new Set()
  usedValues: Set<string> = new Set()
  constructor(
    readonly names: Record<string, string> | undefined,
    readonly values: Record<string, AttributeValue> | undefined,
  ) {}
}

export const pathText = (path: Path): string =>
  `[${path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join(', ')}]`

export const typeName: Record<string, string> = {
  S: 'STRING',
  N: 'NUMBER',
  B: 'BINARY',
  NULL: 'NULL',
  BOOL: 'BOOLEAN',
  L: 'LIST',
  M: 'MAP',
}

export const CONDITION_FUNCTIONS: Record<string, number> = {
  attribute_exists: 1,
  attribute_not_exists: 1,
  attribute_type: 2,
  begins_with: 2,
  contains: 2,
  size: 1,
}

export interface UpdateActions {
  set: { path: Path; value: Operand }[]
  remove: Path[]
  add: { path: Path; value: AttributeValue }[]
  delete: { path: Path; value: AttributeValue }[]
}

function operandPaths(o: Operand): Path[] {
  if (o.kind === 'path') return [o.path]
  if (o.kind === 'call') return o.args.flatMap(operandPaths)
  if (o.kind === 'arith') return [...operandPaths(o.left), ...operandPaths(o.right)]
  return []
}

/** Every document path a condition reads, in order. */
export function conditionPaths(c: Condition): Path[] {
  switch (c.kind) {
    case 'and':
    case 'or':
      return [...conditionPaths(c.left), ...conditionPaths(c.right)]
    case 'not':
      return conditionPaths(c.arg)
    case 'compare':
      return [...operandPaths(c.left), ...operandPaths(c.right)]
    case 'between':
      return [c.arg, c.low, c.high].flatMap(operandPaths)
    case 'in':
      return [c.arg, ...c.list].flatMap(operandPaths)
    case 'call':
      return c.args.flatMap(operandPaths)
  }
}
