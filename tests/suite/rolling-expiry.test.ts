// Rolling expiry over a week of virtual time: a user whose requests (changing, read-only, or
// both) come at least once per `maxAge - touchAfter` keeps both the stored session and the
// browser's cookie until `absoluteMaxAge`, and is logged out then; an idle user is logged out
// after `maxAge`. The browser is a cookie jar that drops cookies past their Max-Age.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { testApp } from '../support/app.ts'
import { virtualClock } from '../support/clock.ts'
import { CookieJar } from '../support/cookies.ts'
import { freshTable } from '../support/dynamodb.ts'

// The defaults: maxAge 1 day, absoluteMaxAge 7 days, touchAfter maxAge / 10.
const MAX_AGE = 86400
const ABSOLUTE = 7 * 86400
const TOUCH_AFTER = MAX_AGE / 10
const HOUR = 3600

type Kind = 'change' | 'read'

/** A user who logs in, then sends a request of `kind(i)` every `every` seconds. */
async function week(every: number, kind: (i: number) => Kind) {
  const conn = await freshTable('rolling')
  const a = testApp(conn)
  a.app.post('/tick', (c) => {
    c.get('session').increment('n')
    return c.json({ user: c.get('session').get('user') ?? null })
  })
  a.app.get('/who', (c) => c.json({ user: c.get('session').get('user') ?? null }))
  const clock = virtualClock()
  try {
    const jar = new CookieJar()
    const login = await jar.send(a.app, '/set/user/ada', 'POST')
    assert.equal(login.status, 200)
    const seen: { at: number; kind: Kind; user: unknown; cookie: boolean }[] = []
    for (let i = 1, at = every; at <= ABSOLUTE + every; i++, at += every) {
      clock.advance(every)
      const k = kind(i)
      const cookie = jar.header() !== undefined
      const res = await (k === 'change'
        ? jar.send(a.app, '/tick', 'POST')
        : jar.send(a.app, '/who'))
      assert.equal(res.status, 200)
      seen.push({ at, kind: k, cookie, user: ((await res.json()) as { user: unknown }).user })
    }
    assert.deepEqual(a.errors, [])
    return seen
  } finally {
    clock.restore()
  }
}

/** Every request before absoluteMaxAge had the cookie and the user; every one after, neither. */
function assertLoggedInUntilAbsolute(seen: Awaited<ReturnType<typeof week>>) {
  const before = seen.filter((s) => s.at < ABSOLUTE)
  const after = seen.filter((s) => s.at >= ABSOLUTE)
  assert.ok(before.length > 0 && after.length > 0)
  const lost = before.find((s) => !s.cookie || s.user !== 'ada')
  assert.equal(lost, undefined, `logged out after ${((lost?.at ?? 0) / HOUR).toFixed(1)} h`)
  for (const s of after) assert.equal(s.user, null, `still logged in at ${s.at / HOUR} h`)
}

describe('rolling expiry over 7 days (virtual clock)', () => {
  test('a change every hour: logged in until absoluteMaxAge, out after it', async () => {
    assertLoggedInUntilAbsolute(await week(HOUR, () => 'change'))
  })

  test('a read-only request every hour: logged in until absoluteMaxAge, out after it', async () => {
    assertLoggedInUntilAbsolute(await week(HOUR, () => 'read'))
  })

  test('a mix of changing and read-only requests every hour', async () => {
    // Runs of reads and changes of varying length, so touches and changes interleave.
    const pattern: Kind[] = ['read', 'change', 'read', 'read', 'change', 'change', 'read', 'read']
    assertLoggedInUntilAbsolute(await week(HOUR, (i) => pattern[i % pattern.length]))
  })

  test('requests every maxAge - touchAfter seconds, of either kind: logged in until absoluteMaxAge', async () => {
    assertLoggedInUntilAbsolute(await week(MAX_AGE - TOUCH_AFTER, () => 'read'))
    assertLoggedInUntilAbsolute(await week(MAX_AGE - TOUCH_AFTER, () => 'change'))
    assertLoggedInUntilAbsolute(
      await week(MAX_AGE - TOUCH_AFTER, (i) => (i % 2 ? 'change' : 'read')),
    )
  })

  test('a user idle for longer than maxAge is logged out, by the browser and by the server', async () => {
    const conn = await freshTable('rolling-idle')
    const a = testApp(conn)
    const clock = virtualClock()
    try {
      const jar = new CookieJar()
      await jar.send(a.app, '/set/user/ada', 'POST')
      for (let h = 0; h < 5; h++) {
        clock.advance(HOUR)
        await jar.send(a.app, h % 2 ? '/read' : '/increment/n', h % 2 ? 'GET' : 'POST')
      }
      assert.deepEqual(await a.whoami(jar.header()), { user: 'ada', n: 3 })
      // Idle for just under maxAge: still in.
      clock.advance(MAX_AGE - 60)
      assert.notEqual(jar.header(), undefined)
      assert.equal((await jar.send(a.app, '/read')).status, 200)
      const cookie = jar.header()
      assert.equal((await a.whoami(cookie))?.user, 'ada')
      // Idle for longer than maxAge after that: the browser dropped the cookie, and the stored
      // session lapsed too (a client that kept the cookie gets nothing).
      clock.advance(MAX_AGE + 1)
      assert.equal(jar.header(), undefined, 'the cookie lapsed in the browser')
      assert.equal(await a.whoami(cookie), null, 'the stored session lapsed too')
    } finally {
      clock.restore()
    }
  })
})
