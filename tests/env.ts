// Where the suite's DynamoDB is: moved to tests/support/backend.ts. This re-export stays only
// for tests/suite/emulator.test.ts, which is being moved along with its cases; delete it once
// that file imports ../support/backend.ts.
export * from './support/backend.ts'
