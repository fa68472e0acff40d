/**
 * @module Query, on a table or a global secondary index: the items of one hash key in range key
 * order (ties in an index by table key), paged by Limit and 1 MB, filtered and projected.
 */
import {
  checkTableName,
  compareKeys,
  type Database,
  type Index,
  type KeyElement,
  type Table,
  tableOf,
  typeOfKey,
} from './database.ts'
import { invalid } from './errors.ts'
import { conditionPaths, type Path } from './expressions/ast.ts'
import { checkKeyCondition, type KeyCondition, matches } from './expressions/key-condition.ts'
import { checkFieldsPresent, expressions, type ParsedExpressions } from './expressions/request.ts'
import { indexOf, projectedNames, settle } from './indexes.ts'
import { readPage } from './scan.ts'
import { checkItem, clone, type Input, type Item, own, put, typeOf } from './values.ts'

const SELECTS = ['ALL_ATTRIBUTES', 'ALL_PROJECTED_ATTRIBUTES', 'COUNT', 'SPECIFIC_ATTRIBUTES']

/** Checks Select against the projection and the index. */
function checkSelect(input: Input, index: Index | undefined): void {
  const select = input.Select
  if (select === undefined) return
  if (!SELECTS.includes(select)) {
    throw invalid(
      'Select must be ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES, COUNT, or SPECIFIC_ATTRIBUTES',
    )
  }
  const projection = input.ProjectionExpression != null
  if (select === 'COUNT' && projection) {
    throw invalid('Cannot specify the ProjectionExpression when choosing to get only the Count')
  }
  if (select === 'ALL_ATTRIBUTES' && projection) {
    throw invalid('Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES')
  }
  if (select === 'SPECIFIC_ATTRIBUTES' && !projection) {
    throw invalid(
      'Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES',
    )
  }
  if (select === 'ALL_PROJECTED_ATTRIBUTES' && !index) {
    throw invalid('ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName')
  }
  if (select === 'ALL_ATTRIBUTES' && index && index.projection.ProjectionType !== 'ALL') {
    throw invalid(
      `One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index ${index.name} because its projection type is not ALL`,
    )
  }
}

/** Parses the expressions, after refusing a Query without a key condition. */
function parseQuery(
  input: Input,
): ParsedExpressions & { keyCondition: NonNullable<ParsedExpressions['keyCondition']> } {
  const which = {
    KeyConditionExpression: 'condition',
    FilterExpression: 'condition',
    ProjectionExpression: 'projection',
  } as const
  const nullValues = 'FilterExpression and KeyConditionExpression are null'
  if (input.KeyConditionExpression == null) {
    const present = Object.keys(which).filter((k) => input[k] != null)
    checkFieldsPresent(input, which, present, nullValues)
    throw invalid(
      'Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.',
    )
  }
  return expressions(input, which, nullValues) as ReturnType<typeof parseQuery>
}

const topNames = (paths: Path[]) => [...new Set(paths.map((p) => String(p[0])))]

/** Refuses a filter on the queried key, and filters or projections of what an index lacks. */
function checkAttributes(t: Table, index: Index | undefined, parsed: ParsedExpressions): void {
  const keys = (index ?? t).keySchema.map((k) => k.AttributeName)
  const filtered = parsed.filter ? topNames(conditionPaths(parsed.filter)) : []
  const key = filtered.find((n) => keys.includes(n))
  if (key) {
    throw invalid(
      `Filter Expression can only contain non-primary key attributes: Primary key attribute: ${key}`,
    )
  }
  const projected = index && projectedNames(t, index)
  if (!index || !projected) return
  const missingFilter = filtered.filter((n) => !projected.includes(n))
  if (missingFilter.length) {
    throw invalid(
      `One or more parameter values were invalid: Secondary index ${index.name} does not project one or more filter attributes: [${missingFilter.join(', ')}]`,
    )
  }
  const missing = topNames(parsed.projection ?? []).filter((n) => !projected.includes(n))
  if (missing.length) {
    throw invalid(
      `One or more parameter values were invalid: Global secondary index ${index.name} does not project [${missing.join(', ')}]`,
    )
  }
}

/** The attributes that place an entry: the queried key, then the table key. */
const placing = (t: Table, index: Index | undefined): KeyElement[] =>
  index ? [...index.keySchema, ...t.keySchema] : t.keySchema

/** Orders two entries of one hash key by the range key, then (in an index) by table key. */
const compareEntries = (a: Item, b: Item, keys: KeyElement[]): number =>
  compareKeys(a, b, keys.slice(1))

/** Checks ExclusiveStartKey: the table's key and the index's, matching the key condition. */
function checkStart(t: Table, index: Index | undefined, raw: unknown, kc: KeyCondition): Item {
  const start = checkItem(raw)
  const names = [...new Set(placing(t, index).map((k) => k.AttributeName))]
  if (Object.keys(start).length !== names.length) {
    throw invalid("Exclusive Start Key must have same size as table's key schema")
  }
  if (names.some((n) => !own(start, n))) throw invalid('The provided starting key is invalid')
  if (names.some((n) => typeOf(start[n]) !== typeOfKey(t, n))) {
    throw invalid('Type mismatch for attribute to update')
  }
  if (!matches(start, kc)) {
    throw invalid('The provided starting key does not match the range key predicate')
  }
  return start
}

/** The entries of the queried hash key, in the order asked for, after the start key. */
function candidates(
  t: Table,
  index: Index | undefined,
  kc: KeyCondition,
  input: Input,
  start?: Item,
): Item[] {
  const keys = placing(t, index)
  const all = [...(index ? index.entries : t.items).values()].filter((e) => matches(e, kc))
  const sign = input.ScanIndexForward === false ? -1 : 1
  all.sort((a, b) => sign * compareEntries(a, b, keys))
  return start ? all.filter((e) => sign * compareEntries(e, start, keys) > 0) : all
}

/** The key of an entry, as LastEvaluatedKey gives it. */
function keyOf(t: Table, index: Index | undefined, entry: Item): Item {
  const key: Item = {}
  for (const k of placing(t, index)) put(key, k.AttributeName, clone(own(entry, k.AttributeName)))
  return key
}

export function Query(db: Database, input: Input): unknown {
  checkTableName(input.TableName)
  const t = tableOf(db, input.TableName)
  if (input.Limit !== undefined && !(input.Limit >= 1)) {
    throw invalid('Limit must be greater than or equal to 1')
  }
  const index = indexOf(t, input.IndexName)
  if (index && input.ConsistentRead === true) {
    throw invalid('Consistent read cannot be true when querying a GSI')
  }
  checkSelect(input, index)
  const parsed = parseQuery(input)
  const keys = (index ?? t).keySchema
  const kc = checkKeyCondition(parsed.keyCondition, keys, (n) => typeOfKey(t, n), !!index)
  checkAttributes(t, index, parsed)
  const start = input.ExclusiveStartKey && checkStart(t, index, input.ExclusiveStartKey, kc)
  if (index) settle(t)
  const entries = candidates(t, index, kc, input, start)
  const { filter, projection } = parsed
  return readPage(t, index, input, entries, filter, projection, (last) => keyOf(t, index, last))
}
