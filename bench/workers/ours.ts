// The Worker of the README: dynamoSession() from the package entry, options from the environment.
import { Hono } from 'hono'
import { dynamoSession, type SessionEnv } from '../../src/index.ts'

const app = new Hono<SessionEnv<{ visits: number }>>()
app.use(dynamoSession())
app.get('/', (c) => {
  c.get('session').increment('visits')
  return c.text('hello')
})

export default app
