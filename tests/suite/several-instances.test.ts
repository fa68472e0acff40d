// With several dynamoSession() instances on one app (each its own contextKey and cookie), a
// failure in one never drops the Set-Cookie of a write another one committed: the browser must
// learn of a sign-in that is stored, or it keeps a cookie naming the ended session.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { type DynamoSessionError, dynamoSession, type SessionEnv } from '../../src/index.ts'
import { withConsoleError } from '../support/console.ts'
import { CookieJar } from '../support/cookies.ts'
import { type Conn, freshTable, SECRET } from '../support/dynamodb.ts'
import { isNewItem, isSave, recordingFetch } from '../support/fetch.ts'

type Env = SessionEnv<Record<string, unknown>> & SessionEnv<Record<string, unknown>, 'admin'>

/**
 * The site's session (outer, cookie `sid`) around an admin session (inner, cookie `aid`). The
 * outer instance's DynamoDB refuses every write once `down()` is called.
 */
function twoInstances(conn: Conn, onError: boolean) {
  const errors: DynamoSessionError[] = []
  const outer = recordingFetch()
  const app = new Hono<Env>()
  const common = {
    ...conn,
    secret: SECRET,
    retry: { attempts: 2, timeoutMs: 30000, budgetMs: 60000 },
    ...(onError ? { onError: (e: DynamoSessionError) => void errors.push(e) } : {}),
  }
  app.use(dynamoSession({ ...common, fetch: outer.fetch }))
  app.use(dynamoSession({ ...common, contextKey: 'admin', cookie: { name: 'aid' } }))
  app.onError((e, c) => {
    if (e instanceof HTTPException) {
      errors.push(e as DynamoSessionError)
      return e.getResponse()
    }
    return c.text('the handler failed', 500)
  })
  app.post('/visit', (c) => {
    c.get('session').set('visits', 1)
    c.get('admin').set('role', 'guest')
    return c.text('ok')
  })
  // Signs in to the admin session and counts a visit on the site's session.
  app.post('/admin-login', (c) => {
    c.get('admin').set('role', 'root')
    c.get('admin').regenerate()
    c.get('session').set('visits', 2)
    return c.text('welcome')
  })
  app.get('/whoami', (c) => c.json({ site: c.get('session').data, admin: c.get('admin').data }))
  return {
    app,
    errors,
    down: () => {
      outer.failEvery(isSave, 'unavailable')
      outer.failEvery(isNewItem, 'unavailable')
    },
  }
}

describe('several middleware instances', () => {
  for (const [how, onError] of [
    ['with onError', true],
    ['through app.onError', false],
  ] as const) {
    test(`one instance's save fails after the other committed a sign-in (${how}): 503, and the sign-in's cookie is kept`, async () => {
      const conn = await freshTable('two-mw')
      const site = twoInstances(conn, onError)
      const jar = new CookieJar()
      assert.equal((await jar.send(site.app, '/visit', 'POST')).status, 200)
      assert.match(jar.header() ?? '', /\bsid=/)
      assert.match(jar.header() ?? '', /\baid=/)

      site.down()
      // Without onError the middleware logs the failure itself.
      const { result: res, all } = await withConsoleError(() =>
        jar.send(site.app, '/admin-login', 'POST'),
      )
      assert.match(all, onError ? /^$/ : /DynamoSessionError UNAVAILABLE/)
      assert.equal(res.status, 503)
      assert.deepEqual(
        site.errors.map((e) => e.code),
        ['UNAVAILABLE'],
      )
      const cookies = res.headers.getSetCookie()
      assert.equal(cookies.length, 1)
      assert.match(
        cookies[0],
        /^aid=[^;]+;.*Max-Age=86400/,
        'the committed sign-in sets its cookie',
      )

      const read = await jar.send(site.app, '/whoami')
      assert.deepEqual(await read.json(), { site: { visits: 1 }, admin: { role: 'root' } })
    })
  }
})
