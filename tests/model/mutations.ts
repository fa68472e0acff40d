// Two broken DynamoDBs the model must notice (tests/model/catches-broken-writes.test.ts): one
// that ignores every write's condition, and one that ignores only the write tokens in it (a retry
// or a late duplicate of an applied write is then applied again). Each rewrites the request before
// it is delivered, dropping the names and values no expression uses any more (DynamoDB refuses
// unused ones), so what remains is a valid request that DynamoDB applies without the condition.

/** Which break is applied to what reaches DynamoDB. */
export type Mutation = 'none' | 'conditions' | 'tokens'

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem'])
const EXPRESSIONS = [
  'ConditionExpression',
  'UpdateExpression',
  'ProjectionExpression',
  'KeyConditionExpression',
  'FilterExpression',
]

// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON
type Body = Record<string, any>

/** The top-level conjuncts of a condition (`a AND (b OR c)` → `a`, `(b OR c)`). */
function conjuncts(condition: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < condition.length; i++) {
    if (condition[i] === '(') depth++
    else if (condition[i] === ')') depth--
    else if (depth === 0 && condition.startsWith(' AND ', i)) {
      parts.push(condition.slice(start, i))
      start = i + 5
    }
  }
  parts.push(condition.slice(start))
  return parts
}

/** Drops the names and values no expression of the request uses. */
function pruneAliases(body: Body): void {
  const used = EXPRESSIONS.map((e) => body[e] ?? '').join(' ')
  for (const field of ['ExpressionAttributeNames', 'ExpressionAttributeValues']) {
    const map = body[field]
    if (!map) continue
    for (const alias of Object.keys(map)) {
      if (!new RegExp(`${alias}(?![\\w])`).test(used)) delete map[alias]
    }
    if (!Object.keys(map).length) delete body[field]
  }
}

/** The request with `mutation` applied; reads pass unchanged. */
export function mutate(op: string, body: Body, mutation: Mutation): Body {
  if (mutation === 'none' || !WRITES.has(op) || !body.ConditionExpression) return body
  const out = structuredClone(body)
  if (mutation === 'conditions') delete out.ConditionExpression
  else {
    const names: Record<string, string> = out.ExpressionAttributeNames ?? {}
    const token = (part: string) =>
      (part.match(/#\w+/g) ?? []).some((alias) => names[alias] === 'w' || names[alias] === 'wf')
    const kept = conjuncts(out.ConditionExpression).filter((part) => !token(part))
    if (kept.length) out.ConditionExpression = kept.join(' AND ')
    else delete out.ConditionExpression
  }
  pruneAliases(out)
  return out
}
