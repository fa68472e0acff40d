// Where the suite's DynamoDB is, chosen once per process:
//
// - TEST_DYNAMODB=memory: one shared memoryDynamoDB() (src/testing/). Every request to its
//   endpoint goes there: the library's, the raw ddb() helper's and the tests' own fetch calls
//   (the global fetch is wrapped for that one endpoint; other URLs pass through untouched).
// - TEST_DYNAMODB_ENDPOINT set (npm test does): that DynamoDB Local.
// - neither (plain `bun test`, `deno test -A`): a DynamoDB Local started here on first import,
//   shared by every test file of the process, stopped by the runner's teardown
//   (tests/bun-setup.ts) or when the process exits, also when a test fails (tests/infra/dynamodb-local.ts
//   kills it on exit).

import { memoryDynamoDB } from '../../src/testing/index.ts'
import { sharedDynamoDBLocal } from '../infra/dynamodb-local.ts'

/** The in-memory DynamoDB's factory, for tests that want one of their own (tests/model). */
export { memoryDynamoDB }

/** Which DynamoDB the suite talks to. */
export type Backend = 'memory' | 'dynamodb-local'

export const backend: Backend = process.env.TEST_DYNAMODB === 'memory' ? 'memory' : 'dynamodb-local'

/** The endpoint the shared in-memory DynamoDB answers on (never resolved: fetch is wrapped). */
export const MEMORY_ENDPOINT = 'http://memory.dynamodb.test'

/** The shared in-memory DynamoDB, with TEST_DYNAMODB=memory. */
export const memory: ReturnType<typeof memoryDynamoDB> | undefined =
  backend === 'memory' ? memoryDynamoDB() : undefined

if (memory) {
  const realFetch = globalThis.fetch
  const routed = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input)
    return url === MEMORY_ENDPOINT || url.startsWith(`${MEMORY_ENDPOINT}/`)
      ? memory.fetch(input, init)
      : realFetch(input, init)
  }
  globalThis.fetch = Object.assign(routed, realFetch) as typeof fetch
}

let endpoint = memory ? MEMORY_ENDPOINT : process.env.TEST_DYNAMODB_ENDPOINT
if (!endpoint) {
  endpoint = (await sharedDynamoDBLocal()).endpoint
  process.env.TEST_DYNAMODB_ENDPOINT = endpoint
}
const resolved = endpoint

/** The endpoint of the suite's DynamoDB. */
export function testEndpoint(): string {
  return resolved
}
