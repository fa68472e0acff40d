// The throughput benchmark's server: the middleware on Node (@hono/node-server) or Bun (Bun.serve),
// whichever runtime runs this file. Prints `{"port":…}` once it listens on a free loopback port.
import { Hono } from 'hono'
import { dynamoSession, type SessionEnv } from '../src/index.ts'
import { credentials, SECRET } from './lib.ts'

type Data = { user: string; cart: string[] }

const app = new Hono<SessionEnv<Data>>()
app.use(
  dynamoSession<Data>({
    table: process.env.BENCH_TABLE,
    endpoint: process.env.BENCH_ENDPOINT,
    region: 'us-east-1',
    credentials,
    secret: SECRET,
    // Plain http on loopback: a Secure cookie is still sent back by the load generator.
  }),
)
app.post('/login', (c) => {
  c.get('session').set('user', 'bench')
  return c.text('welcome')
})
// A request that lost its session would skip DynamoDB and look fast: fail it instead.
app.get('/read', (c) => {
  const session = c.get('session')
  return session.isNew ? c.text('no session', 500) : c.text(`${session.get('user')}`)
})
app.post('/change', (c) => {
  const session = c.get('session')
  if (session.isNew) return c.text('no session', 500)
  session.set('cart', [String(Date.now())])
  return c.text('changed')
})

const announce = (port: number) => console.log(JSON.stringify({ port }))
const bun = (globalThis as { Bun?: { serve(o: object): { port: number } } }).Bun
if (bun) {
  announce(bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch }).port)
} else {
  const { serve } = await import('@hono/node-server')
  serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => announce(info.port))
}
