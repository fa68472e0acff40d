/**
 * @module A request's expressions: its ExpressionAttributeNames and ExpressionAttributeValues
 * checked, each expression parsed by its grammar, and every name and value required to be used.
 */

import { utf8Length } from '../../marshall.ts'
import { invalid } from '../errors.ts'
import { type AttributeValue, checkName, checkValue, type Input, VALUE_NESTING } from '../values.ts'
import { type Condition, ExpressionContext, type Path, type UpdateActions } from './ast.ts'
import { condition, conditionError, keyConditionError } from './condition.ts'
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
  keyCondition?: Condition
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

/** Which grammar parses a request field. */
export type Grammar = 'condition' | 'update' | 'projection'

/** Where each condition-like field's parse goes. */
const CONDITIONS: Record<string, 'condition' | 'filter' | 'keyCondition'> = {
  ConditionExpression: 'condition',
  FilterExpression: 'filter',
  KeyConditionExpression: 'keyCondition',
}

/**
 * Refuses names or values given with no expression to use them. `nullValues` ends the message
 * for values, naming the expressions that could have used them, as DynamoDB Local does.
 */
export function checkFieldsPresent(
  input: Input,
  which: Record<string, Grammar>,
  present: string[],
  nullValues: string,
): void {
  const names = input.ExpressionAttributeNames
  const values = input.ExpressionAttributeValues
  if (names && Object.keys(names).length === 0) {
    throw invalid('ExpressionAttributeNames must not be empty')
  }
  if (values && Object.keys(values).length === 0) {
    throw invalid('ExpressionAttributeValues must not be empty')
  }
  if (names && present.length === 0) {
    throw invalid('ExpressionAttributeNames can only be specified when using expressions')
  }
  if (values && !present.some((f) => which[f] !== 'projection')) {
    throw invalid(
      `ExpressionAttributeValues can only be specified when using expressions: ${nullValues}`,
    )
  }
}

function parseField(
  out: ParsedExpressions,
  field: string,
  grammar: Grammar,
  source: unknown,
  ctx: ExpressionContext,
): void {
  if (grammar === 'update') {
    out.update = parseExpression(field, source, ctx, update, updateError)
  } else if (grammar === 'projection') {
    out.projection = parseExpression(field, source, ctx, projection, projectionError)
  } else {
    // A key condition's operands are checked by what it may hold (key-condition.ts) instead.
    const errorOf = field === 'KeyConditionExpression' ? keyConditionError : conditionError
    out[CONDITIONS[field]] = parseExpression(field, source, ctx, condition, errorOf)
  }
}

function checkAllUsed(ctx: ExpressionContext): void {
  const unusedNames = Object.keys(ctx.names ?? {}).filter((k) => !ctx.usedNames.has(k))
  if (unusedNames.length) {
    throw invalid(
      `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`,
    )
  }
  const unusedValues = Object.keys(ctx.values ?? {}).filter((k) => !ctx.usedValues.has(k))
  if (unusedValues.length) {
    throw invalid(
      `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`,
    )
  }
}

/** Validates names and values, parses the expressions, and checks that all were used. */
export function expressions(
  input: Input,
  which: Record<string, Grammar>,
  nullValues: string,
): ParsedExpressions {
  const present = Object.keys(which).filter((k) => input[k] != null)
  checkFieldsPresent(input, which, present, nullValues)
  const names = input.ExpressionAttributeNames
  if (names) checkNames(names)
  const values = input.ExpressionAttributeValues
  const ctx = new ExpressionContext(names, values ? checkValues(values) : undefined)
  const out: ParsedExpressions = {}
  for (const field of present) parseField(out, field, which[field], input[field], ctx)
  checkAllUsed(ctx)
  return out
}
