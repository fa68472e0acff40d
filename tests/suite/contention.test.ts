// Writes conditioned on the version read retry a bounded number of times: a regenerate() whose
// old session, or a whole-item write whose session, is changed by another request before each of
// its attempts gives up with 503 CONTENDED, stores nothing of its own, and leaves the session as
// the other requests left it. Each interleaving is forced by holding the write at the gate.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ATTEMPTS } from '../../src/store/store.ts'
import { type TestApp, testApp, whileHeld } from '../support/app.ts'
import { cookieFrom } from '../support/cookies.ts'
import { type Conn, freshTable, live, rawItem, scanAll } from '../support/dynamodb.ts'
import { isEnd, isNewItem, isWholeSave, type Match } from '../support/fetch.ts'

/**
 * Sends `request` with the next `times` calls of `a` that `match` picks held; while each is held,
 * `other` changes the session (`other=<i>`), so the version that call writes under is stale.
 */
const changedBeforeEach = (
  a: TestApp,
  other: TestApp,
  cookie: string,
  match: Match,
  request: () => Promise<Response>,
  times = ATTEMPTS,
) =>
  whileHeld(
    a,
    match,
    request,
    async (i) => {
      assert.equal((await other.post(`/set/other/${i}`, cookie)).status, 200)
    },
    times,
  )

/** The test app with POST /bulk: 1,000 keys set, past DynamoDB's expression limits. */
function bulkApp(conn: Conn) {
  const a = testApp(conn)
  a.app.post('/bulk', (c) => {
    for (let i = 0; i < 1000; i++) c.get('session').set(`k${i}`, i)
    return c.text('ok')
  })
  return a
}

describe('bounded retries end in CONTENDED', () => {
  test('a regenerate() whose old session is changed before each of its 4 attempts: 503 CONTENDED, no cookie, no new session left', async () => {
    const conn = await freshTable('contended-regenerate')
    const a = testApp(conn)
    const other = testApp(conn)
    const cookie = cookieFrom(await a.post('/set/user/ada')) as string
    const before = await rawItem(conn, cookie)
    a.reset()

    // Each attempt writes the new item, then ends the old one under the version it read: that
    // end is held while another request changes the old session.
    const res = await changedBeforeEach(a, other, cookie, isEnd, () => a.post('/login', cookie))
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '1')
    assert.deepEqual(res.headers.getSetCookie(), [], 'no cookie: the login did not happen')
    assert.deepEqual(a.codes(), ['CONTENDED'])
    // The new item is written at each attempt: first as new, then rewritten over its own version;
    // the old one is ended under the version read at each attempt; the new item is buried once.
    const toOld =
      (match: Match): Match =>
      (op, body) =>
        match(op, body) && body.Item.id.S === before.id.S
    const writesNewItem: Match = (op, body) =>
      op === 'PutItem' && !!body?.Item?.data && !body.Item.end && body.Item.id?.S !== before.id.S
    const count = (match: Match) => a.calls.filter((c) => match(c.op, c.body)).length
    assert.equal(count(isNewItem), 1)
    assert.equal(count(writesNewItem), ATTEMPTS)
    assert.equal(count(toOld(isEnd)), ATTEMPTS)
    assert.equal(count(isEnd), ATTEMPTS + 1, 'and the new item is buried')

    // The old session lives on, as the other requests left it; the new item is a tombstone.
    const items = await scanAll(conn.table)
    assert.equal(items.length, 2)
    const [old] = live(items)
    assert.equal(live(items).length, 1, 'no new session is left behind')
    assert.equal(old.id.S, before.id.S)
    assert.ok(items.find((i) => i.id.S !== before.id.S)?.end, 'the new item is buried')
    assert.deepEqual(await a.whoami(cookie), { user: 'ada', other: '3' })
    assert.equal(Number(old.v.N), Number(before.v.N) + ATTEMPTS, 'only the other writes')
  })

  test('a whole-item write whose session is changed before each of its 4 attempts: 503 CONTENDED, the session as the other request left it', async () => {
    const conn = await freshTable('contended-whole')
    // Past DynamoDB's expression limits, the change is written whole, under the version read,
    // and replayed on the item each refused attempt returns.
    const a = bulkApp(conn)
    const other = testApp(conn)
    const cookie = cookieFrom(await a.post('/set/user/ada')) as string

    const res = await changedBeforeEach(a, other, cookie, isWholeSave, () =>
      a.post('/bulk', cookie),
    )
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '1')
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.deepEqual(a.codes(), ['CONTENDED'])
    assert.equal(a.calls.filter((c) => isWholeSave(c.op, c.body)).length, ATTEMPTS)
    assert.deepEqual(
      await a.whoami(cookie),
      { user: 'ada', other: '3' },
      'none of the 1,000 keys was stored; every change of the other request was kept',
    )
    assert.equal((await scanAll(conn.table)).length, 1)
  })

  test('a whole-item write whose session is changed before 3 of its attempts is saved at the 4th', async () => {
    // The control: one conflict fewer, and the same write goes through with every change kept.
    const conn = await freshTable('contended-whole-ok')
    const a = bulkApp(conn)
    const other = testApp(conn)
    const cookie = cookieFrom(await a.post('/set/user/ada')) as string
    const bulk = () => a.post('/bulk', cookie)
    const res = await changedBeforeEach(a, other, cookie, isWholeSave, bulk, ATTEMPTS - 1)
    assert.equal(res.status, 200)
    assert.deepEqual(a.errors, [])
    const data = await a.whoami(cookie)
    assert.equal(data?.other, '2')
    assert.equal(data?.k999, 999)
    assert.equal(Object.keys(data ?? {}).length, 1002)
  })
})
