// Written to after destroy() in the same request (sign out, then flash a goodbye): the old session
// ends (a tombstone), and the new session holds what was written; its cookie replaces the old one
// instead of being cleared, and nothing of the old session comes back.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { testApp } from '../support/app.ts'
import { cookieFrom, keyOf } from '../support/cookies.ts'
import { freshTable, rawItem } from '../support/dynamodb.ts'

describe('after destroy()', () => {
  test('a flash after sign-out reaches the next request, under a new id; the old session stays ended', async () => {
    const conn = await freshTable('after-destroy')
    const a = testApp(conn)
    a.app.post('/signout', (c) => {
      const session = c.get('session')
      session.destroy()
      session.flash('notice', 'signed out')
      session.set('theme', 'dark')
      return c.text('bye')
    })
    a.app.get('/notice', (c) =>
      c.json({ notice: c.get('session').takeFlash('notice') ?? null, data: c.get('session').data }),
    )
    const old = cookieFrom(await a.post('/set/theme/dark')) as string
    assert.equal((await a.post('/set/user/ada', old)).status, 200)

    const out = await a.post('/signout', old)
    assert.equal(out.status, 200)
    const set = out.headers.getSetCookie()
    assert.equal(set.length, 1)
    assert.doesNotMatch(set[0], /Max-Age=0/, 'a new session, not a cleared cookie')
    const fresh = cookieFrom(out) as string
    assert.notEqual(fresh, old)

    assert.ok((await rawItem(conn, old))?.end, 'the old session is a tombstone')
    assert.notEqual(await keyOf(fresh), await keyOf(old))
    const next = await a.get('/notice', fresh)
    assert.deepEqual(await next.json(), {
      notice: 'signed out',
      data: { theme: 'dark' },
    })
    // The old cookie names an ended session: changes are refused, and the cookie is not touched.
    const late = await a.post('/set/user/ada', old)
    assert.equal(late.status, 409)
    assert.deepEqual(late.headers.getSetCookie(), [])
  })
})
