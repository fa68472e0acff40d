/**
 * @module Server-side sessions for Hono, stored in Amazon DynamoDB, on every runtime Hono runs on.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { dynamoSession, type SessionEnv } from '@dynamo-session/hono'
 *
 * const app = new Hono<SessionEnv<{ visits: number }>>()
 * app.use(dynamoSession())
 * app.get('/', (c) => {
 *   c.get('session').increment('visits')
 *   return c.text('hello')
 * })
 * ```
 */

export { COOLDOWN_MS, FAILURES } from './breakers.ts'
export type { Credentials, RetryOptions } from './client.ts'
export type { ConnectionOptions } from './connection.ts'
export { DynamoSessionError, type DynamoSessionErrorCode } from './errors.ts'
export type { JsonValue } from './marshall.ts'
export { dynamoSession, type SessionEnv } from './middleware.ts'
export type {
  CookieOptions,
  CredentialsOption,
  DynamoSessionOptions,
  LockingOptions,
  PartialData,
  StandardSchemaResult,
  StandardSchemaV1,
  TableRouter,
} from './options.ts'
export {
  type GlobalTable,
  type GlobalTableOptions,
  globalTable,
  nearestByCoordinates,
} from './regions.ts'
export type { JsonCompatible, NumberKeys, Session } from './session.ts'
export {
  type CreatedTable,
  type CreateTableOptions,
  createSessionTable,
  type SweepCounts,
  type SweepOptions,
  sweepExpiredSessions,
  type TableToolOptions,
} from './table.ts'
export {
  type ListSessionsOptions,
  listSessions,
  type RevokeOptions,
  type RevokeSessionOptions,
  type RevokeSessionsOptions,
  revokeSession,
  revokeSessions,
  type SessionInfo,
} from './users.ts'
