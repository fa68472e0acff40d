/**
 * @module A request's expressions: its ExpressionAttributeNames and ExpressionAttributeValues
 * checked, each expression parsed by its grammar, and every name and value required to be used.
 */

import { utf8Length } from '../../marshall.ts'
import { invalid } from '../errors.ts'
import { type AttributeValue, checkName, checkValue, type Input, VALUE_NESTING } from '../values.ts'
import { type Condition, ExpressionContext, type Path, type UpdateActions } from './ast.ts'
import { condition, conditionError } from './condition.ts'
import { Parser } from './parser.ts'
import { projection, projectionError } from './projection.ts'
import { update, updateError } from './update.ts'

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
  if (utf8Length(source) > MAX_EXPRESSION_BYTES) {
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

/** A request's expressions, parsed. */
export interface ParsedExpressions {
  condition?: Condition
  filter?: Condition
  update?: UpdateActions
  projection?: Path[]
}

/** Checks ExpressionAttributeNames: each name as an attribute name, worded for this field. */
function checkNames(names: Record<string, unknown>): void {
  for (const k of Object.keys(names)) {
    try {
      checkName(String(names[k]))
    } catch (error) {
      throw invalid(
        `ExpressionAttributeNames contains invalid value: ${(error as Error).message} for key ${k}`,
      )
    }
  }
}

/** Checks ExpressionAttributeValues; they may nest one level deeper than an item's attributes. */
function checkValues(raw: Record<string, unknown>): Record<string, AttributeValue> {
  const values: Record<string, AttributeValue> = {}
  for (const k of Object.keys(raw)) {
    try {
      values[k] = checkValue(raw[k], 1, VALUE_NESTING)
    } catch (error) {
      throw invalid(
        `ExpressionAttributeValues contains invalid value: ${(error as Error).message} for key ${k}`,
      )
    }
  }
  return values
}

/** Validates names and values, parses the expressions, and checks that all were used. */
export function expressions(
  input: Input,
  which: Record<string, 'condition' | 'update' | 'projection'>,
): ParsedExpressions {
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
  if (names) checkNames(names)
  const values = rawValues ? checkValues(rawValues) : undefined
  const ctx = new ExpressionContext(names, values)
  const out: ParsedExpressions = {}
  for (const field of present) {
    const label = `Invalid ${field}`.slice(8)
    if (which[field] === 'update') {
      out.update = parseExpression(
        label,
        input[field],
        ctx,
        (p) => update(p),
        (p) => updateError(p),
      )
    } else if (which[field] === 'projection') {
      out.projection = parseExpression(
        label,
        input[field],
        ctx,
        (p) => projection(p),
        (p) => projectionError(p),
      )
    } else {
      const c = parseExpression(
        label,
        input[field],
        ctx,
        (p) => condition(p),
        (p) => conditionError(p),
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
