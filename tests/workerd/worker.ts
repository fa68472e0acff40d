// A Worker for tests/workerd/worker.test.ts: the middleware with no options at all, so the
// table, region, endpoint, credentials and secret can only come from the Worker's bindings.
import { Hono } from 'hono'
import { dynamoSession, type SessionEnv } from '../../src/index.ts'

type Data = Record<string, string | number>

const app = new Hono<SessionEnv<Data>>()
app.use(dynamoSession<Data>())

const view = (session: SessionEnv<Data>['Variables']['session']) => ({
  isNew: session.isNew,
  data: session.data,
  expiresAt: session.expiresAt?.toISOString() ?? null,
})

app.get('/read', (c) => c.json(view(c.get('session'))))
app.post('/set', async (c) => {
  const session = c.get('session')
  for (const [key, value] of Object.entries(await c.req.json<Record<string, string | null>>())) {
    if (value === null) session.delete(key)
    else session.set(key, value)
  }
  return c.json(view(session))
})
app.post('/regenerate', (c) => {
  c.get('session').regenerate()
  return c.json(view(c.get('session')))
})
app.post('/destroy', (c) => {
  c.get('session').destroy()
  return c.json(view(c.get('session')))
})

export default app
