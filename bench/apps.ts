// The apps the CPU and throughput benchmarks drive: the same three routes under each candidate.
import { useSession } from '@hono/session'
import { Hono, type MiddlewareHandler } from 'hono'
import { sessionMiddleware as honoSessions, MemoryStore } from 'hono-sessions'
import { dynamoSession, type SessionEnv } from '../src/index.ts'
import { sessionMiddleware } from '../src/middleware.ts'
import { arcFake, arcRoutes } from './arc.ts'
import { credentials, SECRET } from './lib.ts'
import { makeClient } from './sdk-client.ts'

type Data = { user: string; cart: string[] }

/** The candidates of the CPU benchmark, in the order tables list them. */
export const CANDIDATES = [
  'no middleware',
  'ours (aws4fetch)',
  'SDK baseline',
  'hono-sessions, memory, encrypted id',
  'hono-sessions, memory, plain id',
  'architect/functions (aws-lite)',
  '@hono/session (cookie only)',
] as const
export type Candidate = (typeof CANDIDATES)[number]

export interface Connection {
  table: string
  endpoint: string
  fetch?: typeof fetch
}

function sessionOptions(conn: Connection) {
  return {
    table: conn.table,
    endpoint: conn.endpoint,
    region: 'us-east-1',
    credentials,
    secret: SECRET,
    fetch: conn.fetch,
  }
}

/**
 * Routes: `/none` never looks at the session, `/read` reads it, `/change` writes one key, `/login`
 * starts a session. Handlers do the same work under every candidate.
 */
/** @hono/session's secret: 32 bytes, hex. */
const HEX_SECRET = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'

export async function makeApp(candidate: Candidate, conn: Connection): Promise<Hono> {
  if (candidate === 'no middleware') {
    const app = new Hono()
    app.get('/none', (c) => c.text('ok'))
    app.get('/read', (c) => c.text('ok'))
    app.post('/change', (c) => c.text('ok'))
    app.post('/login', (c) => c.text('ok'))
    return app
  }
  if (candidate === 'architect/functions (aws-lite)') {
    // Its own DynamoDB client (aws-lite over node:http), answered in process: see bench/arc.ts.
    return arcRoutes(await arcFake(), {
      'GET /none': 'none',
      'GET /read': () => undefined,
      'POST /change': (s) => {
        s.cart = [String(Date.now())]
        return 'ok'
      },
      'POST /login': (s) => {
        s.user = 'u1'
        return 'ok'
      },
    })
  }
  if (candidate === '@hono/session (cookie only)') {
    // The whole session in an encrypted cookie (JWE, jose): no store, no network call.
    type Env = { Variables: { session: import('@hono/session').Session<Partial<Data>> } }
    const app = new Hono<Env>()
    app.use(
      useSession<Partial<Data>>({
        secret: HEX_SECRET,
        duration: { absolute: 604800, inactivity: 86400 },
      }) as unknown as MiddlewareHandler<Env>,
    )
    app.get('/none', (c) => c.text('ok'))
    app.get('/read', async (c) => {
      const data = await c.get('session').get()
      return c.text(`${data?.user} ${data?.cart}`)
    })
    app.post('/change', async (c) => {
      await c.get('session').update((data) => ({ ...data, cart: [String(Date.now())] }))
      return c.text('ok')
    })
    app.post('/login', async (c) => {
      await c.get('session').update({ user: 'u1' })
      return c.text('ok')
    })
    return app as unknown as Hono
  }
  if (candidate.startsWith('hono-sessions')) {
    // Its README: path '/', httpOnly, sameSite Lax; an encryption key is "recommended" with stores.
    const app = new Hono<{ Variables: { session: import('hono-sessions').Session<Data> } }>()
    app.use(
      honoSessions({
        store: new MemoryStore(),
        encryptionKey: candidate.endsWith('encrypted id') ? SECRET : undefined,
        expireAfterSeconds: 86400,
        cookieOptions: { sameSite: 'Lax', path: '/', httpOnly: true, secure: true },
      }) as unknown as MiddlewareHandler,
    )
    return sessionRoutes(app as unknown as Hono<SessionEnv<Data>>)
  }
  const app = new Hono<SessionEnv<Data>>()
  app.use(
    candidate === 'SDK baseline'
      ? sessionMiddleware<Data>(sessionOptions(conn), makeClient)
      : dynamoSession<Data>(sessionOptions(conn)),
  )
  return sessionRoutes(app)
}

/** The same handlers under every session library: both expose get and set on `c.get('session')`. */
function sessionRoutes(app: Hono<SessionEnv<Data>>): Hono {
  app.get('/none', (c) => c.text('ok'))
  app.get('/read', (c) => c.text(`${c.get('session').get('user')} ${c.get('session').get('cart')}`))
  app.post('/change', (c) => {
    c.get('session').set('cart', [String(Date.now())])
    return c.text('ok')
  })
  app.post('/login', (c) => {
    c.get('session').set('user', 'u1')
    return c.text('ok')
  })
  return app as unknown as Hono
}
