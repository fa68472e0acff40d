/// <reference types="bun-types" />
// Bun's test setup (bunfig.toml [test] preload): the DynamoDB Local that the first suite file
// starts (tests/support/backend.ts) is stopped after the last file. Test files that never import
// tests/support/backend.ts (examples/testing/bun.test.ts) start none. Were the process to die
// first, tests/infra/dynamodb-local.ts kills Java on exit.
import { afterAll } from 'bun:test'
import { stopSharedDynamoDBLocal } from './infra/dynamodb-local.ts'

afterAll(stopSharedDynamoDBLocal)
