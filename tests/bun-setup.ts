/// <reference types="bun-types" />
// Bun's test setup (bunfig.toml [test] preload): the suite's DynamoDB is chosen and, when needed,
// DynamoDB Local started once before the first test file (tests/env.ts), and stopped after the
// last one. (Were the process to die first, tests/dynamodb-local.ts kills Java on exit.)
import { afterAll } from 'bun:test'
import { stopDynamoDBLocal } from './env.ts'

afterAll(stopDynamoDBLocal)
