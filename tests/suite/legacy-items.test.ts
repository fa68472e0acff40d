// Items written by version 0.1 (no version `v`, no write tokens `w`) keep working: increments on
// them count once, even when a reply is lost or two requests overlap.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { testApp } from '../support/app.ts'
import { newId, signedCookie, storedKey } from '../support/cookies.ts'
import { type Conn, ddb, freshTable, rawItem, SECRET } from '../support/dynamodb.ts'
import { replyLostOnce } from '../support/fetch.ts'

/** A session as version 0.1 stored it (no `v`, no `w`), and the cookie naming it. */
async function legacySession(conn: Conn, data: Record<string, unknown>) {
  const id = newId()
  const now = Math.floor(Date.now() / 1000)
  await ddb('PutItem', {
    TableName: conn.table,
    Item: {
      id: { S: await storedKey(id) },
      data: { M: data },
      flash: { M: {} },
      expires: { N: String(now + 3600) },
      created: { N: String(now - 60) },
    },
  })
  return signedCookie(SECRET, id)
}

describe('items written by 0.1', () => {
  test('an increment whose reply was lost counts once, and answers 200', async () => {
    const conn = await freshTable('rv-legacy')
    const cookie = await legacySession(conn, { n: { N: '5' } })
    // The first write to a 0.1 item replaces it whole (the upgrade): a PutItem.
    const lost = replyLostOnce((op) => op === 'PutItem')
    const a = testApp(conn, { fetch: lost.fetch })
    assert.equal((await a.post('/increment/n', cookie)).status, 200)
    assert.ok(lost.lost())
    assert.equal((await rawItem(conn, cookie)).data.M.n.N, '6')
  })

  test('two overlapping increments both count and both answer 200', async () => {
    const conn = await freshTable('rv-legacy2')
    const cookie = await legacySession(conn, { n: { N: '5' } })
    const slow = testApp(conn)
    const fast = testApp(conn)
    const held = slow.hold((op) => op === 'PutItem')
    const first = slow.post('/increment/n', cookie)
    await held.reached
    assert.equal((await fast.post('/increment/n', cookie)).status, 200)
    held.release()
    assert.equal((await first).status, 200, slow.errors.map((e) => e.message).join('\n'))
    assert.equal((await rawItem(conn, cookie)).data.M.n.N, '7')
  })
})
