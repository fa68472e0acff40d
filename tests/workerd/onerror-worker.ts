// A Worker for tests/workerd/worker.test.ts: store failures reach the app's own onError as a
// DynamoSessionError (an HTTPException) carrying its response. Settings come from the bindings;
// `/down` points at a closed port and `/missing` at a table that does not exist.
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { DynamoSessionError, dynamoSession, type SessionEnv } from '../../src/index.ts'

type Env = SessionEnv<Record<string, string>>

const app = new Hono<Env>()
app.use(
  '/down/*',
  dynamoSession({
    endpoint: 'http://127.0.0.1:9',
    retry: { attempts: 2, timeoutMs: 500, budgetMs: 1500 },
  }),
)
app.use('/missing/*', dynamoSession({ table: 'no-such-table-here' }))
app.use('/ok/*', dynamoSession())
for (const prefix of ['/down', '/missing', '/ok']) {
  app.post(`${prefix}/set`, (c) => {
    c.get('session').set('x', '1')
    return c.text('saved')
  })
  app.post(`${prefix}/destroy`, (c) => {
    c.get('session').destroy()
    return c.text('bye')
  })
}
app.onError((err, c) => {
  if (!(err instanceof HTTPException)) return c.text('not an HTTPException', 500)
  const res = err.getResponse()
  res.headers.set('x-code', err instanceof DynamoSessionError ? err.code : 'other')
  return res
})

export default app
