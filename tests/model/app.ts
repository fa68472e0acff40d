// One app instance of a model run: a Hono app with its own dynamoSession() middleware and the
// routes the history's requests call. Every handler first notes what it saw (the session it
// loaded, its data, the flash value `takeFlash` gives: a page that shows flash messages), then
// does its one thing. onError notes every store error's code on the request it belongs to.
import { Hono } from 'hono'
import { dynamoSession } from '../../src/index.ts'
import type { Env } from '../support/app.ts'
import { type Conn, SECRET } from '../support/dynamodb.ts'
import { requests } from './network.ts'
import { SETTINGS } from './settings.ts'

/** An app instance on the run's network `fetch`. */
export function modelApp(conn: Conn, fetch: typeof globalThis.fetch, locking: boolean) {
  const app = new Hono<Env>()
  app.use(
    dynamoSession({
      ...conn,
      fetch,
      secret: SECRET,
      maxAge: SETTINGS.maxAge,
      retry: SETTINGS.retry,
      locking: locking ? SETTINGS.locking : false,
      onError: (e) => {
        requests.getStore()?.errors.push(e.code)
      },
    }),
  )
  // Every route notes what its handler saw first.
  app.use(async (c, next) => {
    const s = c.get('session')
    const ex = requests.getStore()
    if (ex) ex.seen = { loaded: s.isNew ? null : s.id, data: s.data, flash: s.takeFlash('f') }
    await next()
  })
  const value = () => requests.getStore()?.value ?? 'none'
  app.post('/signin', (c) => {
    const s = c.get('session')
    s.set('user', value())
    s.regenerate({ userId: `user-${requests.getStore()?.browser}` })
    return c.text('signed in')
  })
  app.post('/signout', (c) => {
    c.get('session').destroy()
    return c.text('signed out')
  })
  app.post('/set/:key', (c) => {
    c.get('session').set(c.req.param('key'), value())
    return c.text('set')
  })
  app.post('/delete/:key', (c) => {
    c.get('session').delete(c.req.param('key'))
    return c.text('deleted')
  })
  app.post('/increment', (c) => {
    c.get('session').increment('n')
    return c.text('incremented')
  })
  app.post('/flash', (c) => {
    c.get('session').flash('f', value())
    return c.text('flashed')
  })
  app.get('/take', (c) => c.text('taken'))
  app.get('/read', (c) => c.text('read'))
  app.post('/throw', () => {
    throw new Error('the handler threw')
  })
  // Quiet: a thrown handler is part of the history, not a failure of the test.
  app.onError((_e, c) => c.text('the handler failed', 500))
  return app
}

/** The path and method of a command's request. */
export function routeOf(op: string, key: string): { path: string; method: string } {
  if (op === 'set' || op === 'delete') return { path: `/${op}/${key}`, method: 'POST' }
  if (op === 'take' || op === 'read') return { path: `/${op}`, method: 'GET' }
  return { path: `/${op}`, method: 'POST' }
}
