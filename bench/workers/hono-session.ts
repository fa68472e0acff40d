// @hono/session: the whole session in an encrypted cookie (JWE by jose), no store.
import { useSession } from '@hono/session'
import { Hono } from 'hono'

const app = new Hono()
app.use(useSession({ duration: { absolute: 604800, inactivity: 86400 } }))
app.get('/', async (c) => {
  const session = c.get('session' as never) as import('@hono/session').Session<{ visits?: number }>
  await session.update((data) => ({ visits: (data?.visits ?? 0) + 1 }))
  return c.text('hello')
})

export default app
