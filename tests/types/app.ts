// Sessions in Hono apps: `c.get(contextKey)`, chained `.use()`, several instances, and what a
// middleware typed for another `Data` does to the app.
import { Hono, type MiddlewareHandler } from 'hono'
import { dynamoSession, type Session, type SessionEnv } from '../../src/index.ts'
import { accepts, type Equal, expect } from './helpers.ts'

type Data = { userId: string; visits: number }
type Admin = { role: 'admin' | 'auditor' }

// The app's env types c.get('session').
const app = new Hono<SessionEnv<Data>>()
app.use(dynamoSession<Data>())
app.get('/', (c) => {
  const session = c.get('session')
  expect<Equal<typeof session, Session<Data>>>()
  session.increment('visits')
  // @ts-expect-error Argument of type 'number' is not assignable to parameter of type 'string'
  session.set('userId', 1)
  return c.text('ok')
})

// Chained: the middleware alone types the app.
new Hono().use(dynamoSession<Data>()).get('/', (c) => {
  const session = c.get('session')
  expect<Equal<typeof session, Session<Data>>>()
  // @ts-expect-error Argument of type '"user"' is not assignable
  c.get('session').get('user')
  return c.text('ok')
})

// contextKey: the env and the middleware name the same variable.
const admin = new Hono<SessionEnv<Admin, 'admin'>>()
admin.use(dynamoSession<Admin, 'admin'>({ contextKey: 'admin', cookie: { name: 'admin_sid' } }))
admin.get('/', (c) => {
  const session = c.get('admin')
  expect<Equal<typeof session, Session<Admin>>>()
  session.set('role', 'auditor')
  // @ts-expect-error Argument of type '"root"' is not assignable
  session.set('role', 'root')
  // @ts-expect-error Argument of type '"session"' is not assignable
  c.get('session')
  return c.text('ok')
})
// Without type arguments the key is the option's.
new Hono().use(dynamoSession({ contextKey: 'admin' })).get('/', (c) => {
  const session = c.get('admin')
  expect<Equal<typeof session, Session>>()
  return c.text('ok')
})
// The key given as a type argument and the option must agree.
dynamoSession<Admin, 'admin'>({ contextKey: 'admin' })
// @ts-expect-error Type '"admin"' is not assignable to type '"session"'
dynamoSession<Admin>({ contextKey: 'admin' })
// @ts-expect-error Type '"user"' is not assignable to type '"admin"'
dynamoSession<Admin, 'admin'>({ contextKey: 'user' })

// Two instances side by side, each under its own key and cookie.
const both = new Hono()
  .use(dynamoSession<Data>())
  .use(dynamoSession<Admin, 'admin'>({ contextKey: 'admin', cookie: { name: 'admin_sid' } }))
both.get('/', (c) => {
  const session = c.get('session')
  const adminSession = c.get('admin')
  expect<Equal<typeof session, Session<Data>>>()
  expect<Equal<typeof adminSession, Session<Admin>>>()
  return c.text('ok')
})
type BothEnv = {
  Variables: SessionEnv<Data>['Variables'] & SessionEnv<Admin, 'admin'>['Variables']
}
const declared = new Hono<BothEnv>()
declared.use(dynamoSession<Data>())
declared.use(dynamoSession<Admin, 'admin'>({ contextKey: 'admin' }))
declared.get('/', (c) => {
  c.get('admin').set('role', 'admin')
  c.get('session').increment('visits')
  return c.text('ok')
})

// A middleware typed for another Data. Where the middleware is given a type, the mismatch is an
// error: an annotated variable, or `satisfies`.
export const fits: MiddlewareHandler<SessionEnv<Data>> = dynamoSession<Data>()
// @ts-expect-error is not assignable to type 'MiddlewareHandler<SessionEnv<Data>>'
export const misfit: MiddlewareHandler<SessionEnv<Data>> = dynamoSession<{ userId: number }>()
// @ts-expect-error Property 'session' is missing in type '{ admin: Session<Data
export const misplaced: MiddlewareHandler<SessionEnv<Data>> = dynamoSession<Data, 'admin'>({
  contextKey: 'admin',
})
app.use(dynamoSession<Data>() satisfies MiddlewareHandler<SessionEnv<Data>>)
// @ts-expect-error does not satisfy the expected type 'MiddlewareHandler<SessionEnv<Data>>'
app.use(dynamoSession<{ userId: number }>() satisfies MiddlewareHandler<SessionEnv<Data>>)
// Without a type argument the middleware takes the annotation's Data.
export const inferred: MiddlewareHandler<SessionEnv<Data>> = dynamoSession()

// `app.use()` itself does not compare: Hono infers a new env from the middleware and merges it
// into the app's. Handlers registered on `app` keep the app's Data; on the chain, the two
// sessions intersect and the app's Data is the one that calls resolve to first.
app.use(dynamoSession<{ userId: number }>())
new Hono<SessionEnv<Data>>().use(dynamoSession<{ userId: number }>()).get('/', (c) => {
  const session = c.get('session')
  accepts<Session<Data>>(session)
  accepts<Session<{ userId: number }>>(session)
  const id = session.get('userId')
  expect<Equal<typeof id, string | undefined>>()
  // Both signatures are offered: a number passes the other Data's.
  session.set('userId', 1)
  return c.text('ok')
})
