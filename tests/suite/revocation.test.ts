// The revocation guarantee (docs/guarantees.md, "Revoking a user's sessions"): once
// revokeSessions() resolves, no session of the user created before the call began can be read
// as signed in or make a 2xx change, although the user index lags the table, and although a
// browser signs in again while it runs. Interleavings are forced by holding one DynamoDB call;
// the index's lag by answering Queries from the entries as they were a moment earlier.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createSessionTable, listSessions, revokeSessions } from '../../src/index.ts'
import { memoryDynamoDB } from '../../src/testing/index.ts'
import { sleep } from '../support/clock.ts'
import { keyOf } from '../support/cookies.ts'
import { credentials, freshTable, scanAll } from '../support/dynamodb.ts'
import { isEnd, isNewItem, recordingFetch } from '../support/fetch.ts'
import {
  Browser,
  gatedLagging,
  indexEntries,
  isEndOf,
  isReadOf,
  itemAt,
  laggingIndex,
  tools,
  userApp,
} from '../support/users.ts'

/** Live items bound to a user. */
const liveOf = async (table: string, user: string) =>
  (await scanAll(table)).filter((i) => i.data && !i.end && i.uid?.S === user)

describe('revokeSessions() and the lagging index', () => {
  test('a session bound a moment before the call, not yet in the index, is revoked by the second pass', async () => {
    const conn = await freshTable('revoke-lag')
    const a = userApp(conn)
    const early = new Browser(a, 'early')
    await early.login('ada')
    const lag = laggingIndex()
    // The index shows the first sign-in only: the second has not reached it yet.
    await lag.freeze(conn, 'ada')
    const late = new Browser(a, 'late')
    await late.login('ada')
    const started = Date.now()
    const result = await revokeSessions({
      ...conn,
      userId: 'ada',
      fetch: lag.fetch,
      indexLagMs: 300,
    })
    assert.deepEqual(result, { revoked: 2 })
    assert.equal(await early.user(), null)
    assert.equal(await late.user(), null, 'the session the index did not show yet is revoked too')
    assert.deepEqual(
      lag.queries.map((q) => q.stale),
      [true, false],
    )
    assert.ok(lag.queries[1].at >= started + 300, 'the second pass waits for the index to catch up')
    assert.deepEqual(await liveOf(conn.table, 'ada'), [])
  })

  test('with the index up to date, the second pass finds nothing more to write', async () => {
    const conn = await freshTable('revoke-lag')
    const a = userApp(conn)
    await new Browser(a, 'one').login('ada')
    await new Browser(a, 'two').login('ada')
    const { gate } = gatedLagging()
    assert.deepEqual(
      await revokeSessions({ ...conn, userId: 'ada', fetch: gate.fetch, indexLagMs: 0 }),
      { revoked: 2 },
    )
    const ops = gate.ops()
    assert.deepEqual(
      ops.filter((op) => op !== 'GetItem'),
      ['Query', 'PutItem', 'PutItem', 'Query'],
    )
  })
})

describe('what a sign-in leaves for a revocation to follow', () => {
  test('its tombstone names the new session and, when bound, stays in the user index without a handle', async () => {
    const conn = await freshTable('revoke-moved')
    const a = userApp(conn)
    const browser = new Browser(a, 'the browser')
    await browser.send('/set/k/v', 'POST')
    const anonymous = await keyOf(browser.jar.header() as string)
    await browser.login('ada')
    const bound = await keyOf(browser.jar.header() as string)
    await browser.login('ada')
    const now = await keyOf(browser.jar.header() as string)
    const [first, second] = [await itemAt(conn, anonymous), await itemAt(conn, bound)]
    assert.deepEqual([first.end, first.to, first.uid], [{ S: 'm' }, { S: bound }, undefined])
    assert.deepEqual([second.end, second.to, second.uid], [{ S: 'm' }, { S: now }, { S: 'ada' }])
    assert.deepEqual(second.created, (await itemAt(conn, now)).created)
    const entries = await indexEntries(conn, 'ada')
    assert.deepEqual(entries.map((e) => e.id.S).sort(), [bound, now].sort())
    assert.equal(entries.find((e) => e.id.S === bound).h, undefined, 'no handle: never listed')
    assert.equal((await tools(conn).list('ada')).length, 1)
  })
})

describe('revokeSessions() and a sign-in racing it', () => {
  /** A user signed in once; the tools' fetch holds calls and answers Queries from a frozen index. */
  async function racing() {
    const conn = await freshTable('revoke-race')
    const a = userApp(conn)
    const browser = new Browser(a, 'the browser')
    await browser.login('ada')
    const key = await keyOf(browser.jar.header() as string)
    const { lag, gate } = gatedLagging()
    // The index keeps showing the first session only, both passes: what catches the new one
    // is the old one's tombstone, which names it.
    await lag.freeze(conn, 'ada', 2)
    const revoke = () =>
      revokeSessions({ ...conn, userId: 'ada', fetch: gate.fetch, indexLagMs: 0 })
    return { conn, a, browser, key, gate, revoke }
  }

  test('a sign-in that moves the session before the revocation reads it: the new session is revoked', async () => {
    const { conn, browser, key, gate, revoke } = await racing()
    const read = gate.hold(isReadOf(key))
    const revoking = revoke()
    await read.reached
    await browser.login('ada')
    assert.equal(await browser.user(), 'ada')
    read.release()
    assert.deepEqual(await revoking, { revoked: 1 })
    assert.equal(await browser.user(), null, 'the browser is signed out under its new id too')
    assert.deepEqual(await liveOf(conn.table, 'ada'), [])
  })

  test('a sign-in that moves the session between the revocation’s read and its end: the new session is revoked', async () => {
    const { conn, browser, key, gate, revoke } = await racing()
    const end = gate.hold(isEndOf(key))
    const revoking = revoke()
    await end.reached
    await browser.login('ada')
    end.release()
    assert.deepEqual(await revoking, { revoked: 1 })
    assert.equal(await browser.user(), null)
    assert.deepEqual(await liveOf(conn.table, 'ada'), [])
  })

  test('a revocation that lands between a sign-in’s new item and its end of the old one: the sign-in gets 409 and leaves nothing', async () => {
    const { conn, a, browser, revoke } = await racing()
    const cookie = browser.jar.header()
    const end = a.hold(isEnd)
    const signingIn = browser.send('/login/ada', 'POST')
    await end.reached
    assert.deepEqual(await revoke(), { revoked: 1 })
    end.release()
    const res = await signingIn
    assert.equal(res.status, 409)
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.equal(browser.jar.header(), cookie)
    assert.equal(await browser.user(), null)
    assert.deepEqual(await liveOf(conn.table, 'ada'), [], 'the new item is buried')
  })

  test('a sign-in held before its new item is written: it lands after the revocation and gets 409', async () => {
    const { conn, a, browser, revoke } = await racing()
    const put = a.hold(isNewItem)
    const signingIn = browser.send('/login/ada', 'POST')
    await put.reached
    assert.deepEqual(await revoke(), { revoked: 1 })
    put.release()
    assert.equal((await signingIn).status, 409)
    assert.equal(await browser.user(), null)
    assert.deepEqual(await liveOf(conn.table, 'ada'), [])
  })
})

describe('requests in flight during a revocation', () => {
  test('a change loaded before the revocation and saved after it is refused with 409', async () => {
    const conn = await freshTable('revoke-flight')
    const a = userApp(conn)
    const browser = new Browser(a, 'slow')
    await browser.login('ada')
    let go: () => void = () => {}
    const entered = new Promise<void>((resolve) => {
      a.pauseWith(() => {
        resolve()
        return new Promise<void>((r) => {
          go = r
        })
      })
    })
    const change = browser.send('/set/theme/dark', 'POST')
    await entered
    assert.deepEqual(await tools(conn).revokeAll('ada'), { revoked: 1 })
    go()
    assert.equal((await change).status, 409, 'no 2xx change after the revocation')
    a.pauseWith(undefined)
    assert.equal(await browser.user(), null)
  })
})

describe('on memoryDynamoDB({ indexLagMs }), whose index lags as DynamoDB’s does', () => {
  const LAG = 300

  /** A table of its own in a lagging in-memory DynamoDB, and an app on it. */
  async function lagging() {
    const db = memoryDynamoDB({ indexLagMs: LAG })
    const conn = {
      table: 'sessions',
      region: 'us-east-1',
      endpoint: 'http://lagging.dynamodb.test',
      credentials,
    }
    await createSessionTable({ ...conn, fetch: db.fetch })
    const a = userApp(conn, { fetch: db.fetch })
    const t = {
      list: () => listSessions({ ...conn, fetch: db.fetch, userId: 'ada' }),
      revokeAll: (indexLagMs: number) =>
        revokeSessions({ ...conn, fetch: db.fetch, userId: 'ada', indexLagMs }),
    }
    return { db, a, t }
  }

  test('a session signed in a moment before revokeSessions(), not listed yet, is revoked too', async () => {
    const { a, t } = await lagging()
    const early = new Browser(a, 'early')
    await early.login('ada')
    await sleep(LAG + 50)
    const late = new Browser(a, 'late')
    await late.login('ada')
    assert.deepEqual(
      (await t.list()).map((s) => s.device),
      ['early'],
      'the index does not show the late sign-in yet',
    )
    assert.deepEqual(await t.revokeAll(LAG), { revoked: 2 })
    assert.equal(await early.user(), null)
    assert.equal(await late.user(), null)
  })

  test('indexLagMs is the lag the revocation allows for: shorter than the index’s, a session bound a moment before is missed', async () => {
    const { a, t } = await lagging()
    const late = new Browser(a, 'late')
    await late.login('ada')
    assert.deepEqual(await t.revokeAll(0), { revoked: 0 })
    assert.equal(await late.user(), 'ada', 'not guaranteed: docs/guarantees.md says so')
  })

  test('a browser that signs in again while it is revoked is followed to its new session', async () => {
    const { db, a, t } = await lagging()
    const browser = new Browser(a, 'the browser')
    await browser.login('ada')
    await sleep(LAG + 50)
    const key = await keyOf(browser.jar.header() as string)
    const gate = recordingFetch(db.fetch)
    const read = gate.hold(isReadOf(key))
    const revoking = revokeSessions({
      table: 'sessions',
      region: 'us-east-1',
      endpoint: 'http://lagging.dynamodb.test',
      credentials,
      fetch: gate.fetch,
      userId: 'ada',
      indexLagMs: LAG,
    })
    await read.reached
    await browser.login('ada')
    read.release()
    assert.deepEqual(await revoking, { revoked: 1 })
    assert.equal(await browser.user(), null)
    await sleep(LAG + 50)
    assert.deepEqual(await t.list(), [])
  })

  test('the user index added to an existing table lists the sessions bound before it', async () => {
    const db = memoryDynamoDB({ indexLagMs: LAG })
    const conn = { table: 'old', region: 'us-east-1', endpoint: 'http://old.test', credentials }
    await db.fetch(conn.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.CreateTable' },
      body: JSON.stringify({
        TableName: 'old',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    })
    const a = userApp(conn, { fetch: db.fetch })
    await new Browser(a, 'bound before').login('ada')
    await new Browser(a, 'anonymous').send('/set/k/v', 'POST')
    const result = await createSessionTable({ ...conn, fetch: db.fetch })
    assert.deepEqual(result, { created: false, table: 'old', indexAdded: true })
    assert.equal(db.tables.get('old')?.indexes[0].status, 'ACTIVE', 'it waited for the build')
    const listed = await listSessions({ ...conn, fetch: db.fetch, userId: 'ada' })
    assert.deepEqual(
      listed.map((s) => s.device),
      ['bound before'],
    )
    assert.equal(db.tables.get('old')?.indexes[0].items.length, 1, 'the anonymous one is not in it')
  })
})
