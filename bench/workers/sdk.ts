// The same Worker with the same middleware over the AWS SDK instead of aws4fetch.
import { Hono } from 'hono'
import type { SessionEnv } from '../../src/index.ts'
import { sessionMiddleware } from '../../src/middleware.ts'
import { makeClient } from '../sdk-client.ts'

const app = new Hono<SessionEnv<{ visits: number }>>()
app.use(sessionMiddleware(undefined, makeClient))
app.get('/', (c) => {
  c.get('session').increment('visits')
  return c.text('hello')
})

export default app
