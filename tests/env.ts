// Where the suite finds the DynamoDB Local that `npm test` (tests/run.ts) started.

/** The DynamoDB Local endpoint for tests. */
export function testEndpoint(): string {
  const endpoint = process.env.TEST_DYNAMODB_ENDPOINT
  if (!endpoint) {
    throw new Error(
      'TEST_DYNAMODB_ENDPOINT is not set: run the suite with npm test, which starts DynamoDB Local',
    )
  }
  return endpoint
}
