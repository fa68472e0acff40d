// A user's sessions, listed and revoked (issue 19): three browsers are listed with their devices,
// newest first; revoking one signs out that browser only; revoking all but the current one
// leaves only it; anonymous sessions are never listed; another user's handle changes nothing; a
// revoked browser can sign in again at once; a page view is still one GetItem.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { keyOf } from '../support/cookies.ts'
import { freshTable } from '../support/dynamodb.ts'
import { Browser, indexEntries, itemAt, tools, userApp } from '../support/users.ts'

/** Three browsers of one app, signed in as `ada` one after the other (a second apart). */
async function threeBrowsers() {
  const conn = await freshTable('users')
  const a = userApp(conn)
  const browsers = [
    new Browser(a, 'Firefox on the laptop'),
    new Browser(a, 'Safari on the phone'),
    new Browser(a, 'Chrome at work'),
  ]
  const handles: string[] = []
  const real = Date.now
  for (const [i, b] of browsers.entries()) {
    // Each session starts a second after the last, so "newest first" has one answer.
    Date.now = () => real() + i * 1000
    try {
      await b.send('/set/visited/yes', 'POST')
      handles.push(await b.login('ada'))
    } finally {
      Date.now = real
    }
  }
  return { conn, a, browsers, handles, t: tools(conn) }
}

describe('listSessions()', () => {
  test('a user signed in from three browsers has three sessions listed, newest first, with their devices', async () => {
    const { browsers, handles, t } = await threeBrowsers()
    const before = Date.now()
    const list = await t.list('ada')
    assert.deepEqual(
      list.map((s) => [s.handle, s.device]),
      [
        [handles[2], 'Chrome at work'],
        [handles[1], 'Safari on the phone'],
        [handles[0], 'Firefox on the laptop'],
      ],
    )
    for (const s of list) {
      assert.ok(s.created > before - 60_000 && s.created < before + 60_000, 'created in epoch ms')
      assert.ok(s.expires > s.created + 3600_000, 'expires in epoch ms, a day away')
      assert.equal(Object.keys(s).sort().join(), 'created,device,expires,handle')
    }
    for (const [i, b] of browsers.entries()) {
      assert.deepEqual(await b.me(), {
        userId: 'ada',
        handle: handles[i],
        isNew: false,
        data: { name: 'ada', visited: 'yes' },
      })
    }
  })

  test('anonymous sessions are never listed, nor in the index; another user sees only theirs', async () => {
    const { conn, a, t } = await threeBrowsers()
    const anon = new Browser(a, 'anonymous')
    await anon.send('/set/cart/apple', 'POST')
    const grace = new Browser(a, 'Edge')
    await grace.login('grace')
    assert.equal((await t.list('ada')).length, 3)
    assert.deepEqual(
      (await t.list('grace')).map((s) => s.device),
      ['Edge'],
    )
    assert.deepEqual(await t.list('nobody'), [])
    const key = await keyOf(anon.jar.header() as string)
    assert.equal((await itemAt(conn, key))?.uid, undefined, 'an anonymous item has no uid')
    const indexed = [...(await indexEntries(conn, 'ada')), ...(await indexEntries(conn, 'grace'))]
    assert.equal(indexed.length, 4)
    assert.ok(!indexed.some((e) => e.id.S === key))
  })

  test('a session that signs in again is listed once, under its new handle; signed-out ones are gone', async () => {
    const { browsers, handles, t } = await threeBrowsers()
    const again = await browsers[0].login('ada')
    assert.notEqual(again, handles[0])
    await browsers[1].send('/logout', 'POST')
    const list = await t.list('ada')
    assert.deepEqual(list.map((s) => s.handle).sort(), [again, handles[2]].sort())
  })
})

describe('revokeSession()', () => {
  test('revoking one session signs out that browser only', async () => {
    const { browsers, handles, t } = await threeBrowsers()
    assert.equal(await t.revokeOne('ada', handles[1]), true)
    assert.equal(await browsers[1].user(), null, 'the revoked browser is signed out')
    assert.equal(await browsers[0].user(), 'ada')
    assert.equal(await browsers[2].user(), 'ada')
    assert.deepEqual(
      (await t.list('ada')).map((s) => s.handle),
      [handles[2], handles[0]],
    )
    assert.equal(await t.revokeOne('ada', handles[1]), false, 'a second time: nothing to revoke')
  })

  test("another user's handle, or an unknown one, changes nothing and answers false", async () => {
    const { conn, a, browsers, t } = await threeBrowsers()
    const grace = new Browser(a, 'Edge')
    const theirs = await grace.login('grace')
    const before = await indexEntries(conn, 'ada')
    assert.equal(await t.revokeOne('ada', theirs), false)
    assert.equal(await t.revokeOne('ada', 'no-such-handle-x'), false)
    assert.equal(await grace.user(), 'grace')
    for (const b of browsers) assert.equal(await b.user(), 'ada')
    assert.deepEqual(await indexEntries(conn, 'ada'), before)
  })

  test('a revoked browser is signed out at once, refused changes within the grace, and can sign in again at once', async () => {
    const { browsers, handles, t } = await threeBrowsers()
    const b = browsers[0]
    const cookie = b.jar.header()
    assert.equal(await t.revokeOne('ada', handles[0]), true)
    const read = await b.send('/me')
    assert.equal(((await read.json()) as { userId: unknown }).userId, null)
    assert.deepEqual(read.headers.getSetCookie(), [], 'a read within the grace leaves the cookie')
    const change = await b.send('/set/k/v', 'POST')
    assert.equal(change.status, 409, 'a change through the revoked session is refused')
    assert.equal(b.jar.header(), cookie)
    const handle = await b.login('ada')
    assert.equal(await b.user(), 'ada', 'signed in again at once')
    assert.deepEqual((await b.me()).data, { name: 'ada' }, 'from an empty session')
    assert.ok((await t.list('ada')).some((s) => s.handle === handle))
  })
})

describe('revokeSessions()', () => {
  test('revoking all but the current session leaves only the current one signed in', async () => {
    const { browsers, handles, t } = await threeBrowsers()
    assert.deepEqual(await t.revokeAll('ada', handles[1]), { revoked: 2 })
    assert.equal(await browsers[0].user(), null)
    assert.equal(await browsers[1].user(), 'ada')
    assert.equal(await browsers[2].user(), null)
    assert.deepEqual(
      (await t.list('ada')).map((s) => s.handle),
      [handles[1]],
    )
  })

  test("revoking all signs out every browser of the user and no other user's", async () => {
    const { a, browsers, t } = await threeBrowsers()
    const grace = new Browser(a, 'Edge')
    await grace.login('grace')
    assert.deepEqual(await t.revokeAll('ada'), { revoked: 3 })
    for (const b of browsers) assert.equal(await b.user(), null)
    assert.equal(await grace.user(), 'grace')
    assert.deepEqual(await t.list('ada'), [])
    assert.deepEqual(await t.revokeAll('ada'), { revoked: 0 })
  })

  test('a revoked session ends as a sign-out ends it: a tombstone, not a sign-in move, out of the index', async () => {
    const { conn, browsers, t } = await threeBrowsers()
    const key = await keyOf(browsers[0].jar.header() as string)
    await t.revokeAll('ada')
    const item = await itemAt(conn, key)
    assert.deepEqual(item.end, { S: '1' })
    assert.equal(item.data, undefined)
    assert.equal(item.uid, undefined, 'a revoked session leaves the user index')
    assert.deepEqual(await indexEntries(conn, 'ada'), [])
  })
})

describe('a page view of a bound session', () => {
  test('is one consistent GetItem and no write', async () => {
    const { a, browsers } = await threeBrowsers()
    const calls = a.calls.length
    assert.equal(await browsers[0].user(), 'ada')
    const ops = a.calls.slice(calls)
    assert.deepEqual(
      ops.map((c) => c.op),
      ['GetItem'],
    )
    assert.equal(ops[0].body.ConsistentRead, true)
  })
})
