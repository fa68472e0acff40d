// Flash values have identity: consuming removes exactly the values the request read, so a value
// flashed meanwhile to the same key by another request stays for the next one; replays (a
// sign-in's, a whole-item write's) carry every value flashed meanwhile; and no late duplicate of
// a flash brings back a consumed value or replaces a newer one.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { loggedIn, postLosingFirstAttempt, type TestApp, testApp } from '../support/app.ts'
import { cookieFrom } from '../support/cookies.ts'
import { freshTable } from '../support/dynamodb.ts'
import { isEnd, isFlashSave, isWholeSave } from '../support/fetch.ts'

/** An app with a signed-in session, and a route that reads a flash value among 400 changes. */
async function flashing(prefix: string) {
  const a = testApp(await freshTable(prefix))
  // Past DynamoDB's expression limits: written as a whole item under the version read.
  a.app.get('/take-among-many/:key', (c) => {
    const key = c.req.param('key')
    for (let i = 0; i < 400; i++) c.get('session').set(`k${i}`, i)
    return c.json({ value: c.get('session').takeFlash(key) ?? null })
  })
  const cookie = await loggedIn(a)
  return { a, cookie }
}

/** What the next request reads of a flash key (and so consumes): `{ value }`. */
const take = async (a: TestApp, cookie: string, key = 'notice') =>
  (await (await a.get(`/take/${key}`, cookie)).json()) as Record<string, unknown>

describe('flash identity', () => {
  test('a flash stored by another request while a sign-in replays is kept in the new session', async () => {
    const { a, cookie } = await flashing('flash-login')
    // The sign-in has written its new item and waits to end the old session.
    const held = a.hold(isEnd)
    const login = a.post('/login', cookie)
    await held.reached
    assert.equal((await a.post('/flash/notice/hello', cookie)).status, 200)
    held.release()
    const res = await login
    assert.equal(res.status, 200)
    const signedIn = cookieFrom(res)
    assert.ok(signedIn)
    assert.deepEqual(await take(a, signedIn), { value: 'hello' })
    assert.deepEqual(await take(a, signedIn), { value: null })
    assert.deepEqual(a.codes(), [])
  })

  for (const [path, route, wholeWrites] of [
    ['per key', '/take', 0],
    // Refused for the version the request read, then replayed on a fresh read.
    ['whole-item', '/take-among-many', 2],
  ] as const) {
    test(`consuming a flash (${path} write) keeps a value flashed to the same key meanwhile`, async () => {
      const { a, cookie } = await flashing('flash-consume')
      assert.equal((await a.post('/flash/notice/first', cookie)).status, 200)
      // The consuming request has loaded the session; its answer from DynamoDB waits.
      const held = a.hold((op) => op === 'GetItem', 'after')
      const reading = a.get(`${route}/notice`, cookie)
      await held.reached
      assert.equal((await a.post('/flash/notice/second', cookie)).status, 200)
      held.release()
      const res = await reading
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { value: 'first' })
      assert.equal(a.calls.filter((c) => isWholeSave(c.op, c.body)).length, wholeWrites)
      assert.deepEqual(await take(a, cookie), { value: 'second' }, 'the newer value stayed')
      assert.deepEqual(await take(a, cookie), { value: null })
      assert.deepEqual(a.codes(), [])
    })
  }

  test('a late duplicate of a flash, landing after the value was consumed, does not deliver it again', async () => {
    const { a, cookie } = await flashing('flash-late-consumed')
    const { res, late } = await postLosingFirstAttempt(
      a,
      isFlashSave,
      '/flash/notice/hello',
      cookie,
    )
    assert.equal(res.status, 200, 'its retry was applied')
    assert.deepEqual(await take(a, cookie), { value: 'hello' })

    await late.deliver()
    assert.deepEqual(await take(a, cookie), { value: null }, 'consumed once, for good')
    assert.deepEqual(a.codes(), [])
  })

  test('a late duplicate of an older flash does not replace a newer value', async () => {
    const { a, cookie } = await flashing('flash-late-older')
    const { res, late } = await postLosingFirstAttempt(
      a,
      isFlashSave,
      '/flash/notice/older',
      cookie,
    )
    assert.equal(res.status, 200, 'its retry was applied')
    assert.equal((await a.post('/flash/notice/newer', cookie)).status, 200)

    await late.deliver()
    assert.deepEqual(await take(a, cookie), { value: 'newer' })
    assert.deepEqual(a.codes(), [])
  })
})
