// @architect/functions sessions on DynamoDB, as its documentation shows them, from a Hono route.
import arc from '@architect/functions'
import { Hono } from 'hono'

const app = new Hono()
app.get('/', async (c) => {
  const request = { headers: { cookie: c.req.header('cookie') ?? '' } }
  const session = (await arc.http.session.read(request as never)) as { visits?: number }
  session.visits = (session.visits ?? 0) + 1
  c.header('set-cookie', await arc.http.session.write(session))
  return c.text('hello')
})

export default app
