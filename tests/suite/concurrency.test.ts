// Concurrent requests on one session, from one app or from two app instances with their own
// clients: changes to different keys are all kept, increments all count, and a destroyed
// session stays destroyed.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { testApp } from '../support/app.ts'
import { latch } from '../support/clock.ts'
import { cookieOf } from '../support/cookies.ts'
import { freshTable, scanAll } from '../support/dynamodb.ts'

/** Items holding session data (a tombstone of an ended session holds none). */
const liveItems = async (table: string) => (await scanAll(table)).filter((i) => i.data).length

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('concurrency', () => {
  test('50 concurrent requests each setting a different key: all 50 keys are kept', async () => {
    const conn = await freshTable('conc-keys')
    const a = testApp(conn)
    const cookie = cookieOf(await a.post('/set/seed/seed'))
    const responses = await Promise.all(range(50).map((i) => a.post(`/set/k${i}/k${i}`, cookie)))
    assert.deepEqual(
      responses.map((r) => r.status),
      range(50).map(() => 200),
    )
    const data = await a.whoami(cookie)
    assert.ok(data)
    assert.equal(Object.keys(data).length, 51)
    for (const i of range(50)) assert.equal(data[`k${i}`], `k${i}`)
    assert.equal((await scanAll(conn.table)).length, 1, 'one session, one item')
  })

  test('concurrent deletes and sets of different keys do not undo each other', async () => {
    const conn = await freshTable('conc-del')
    const a = testApp(conn)
    const cookie = cookieOf(await a.post('/set/seed/seed'))
    await Promise.all(range(20).map((i) => a.post(`/set/old${i}/old${i}`, cookie)))
    const responses = await Promise.all([
      ...range(20).map((i) => a.post(`/delete/old${i}`, cookie)),
      ...range(20).map((i) => a.post(`/set/new${i}/new${i}`, cookie)),
    ])
    assert.ok(responses.every((r) => r.status === 200))
    const data = await a.whoami(cookie)
    assert.deepEqual(
      Object.keys(data ?? {}).sort(),
      ['seed', ...range(20).map((i) => `new${i}`)].sort(),
    )
  })

  test('two app instances, 200 concurrent increments split between them: n is exactly 200', async () => {
    const conn = await freshTable('conc-inc')
    const one = testApp(conn)
    const two = testApp(conn)
    const cookie = cookieOf(await one.post('/set/seed/seed'))
    const responses = await Promise.all(
      range(200).map((i) => (i % 2 ? one : two).post('/increment/n', cookie)),
    )
    assert.deepEqual(
      responses.map((r) => r.status),
      range(200).map(() => 200),
      [...one.errors, ...two.errors].map((e) => `${e.code}: ${e.message}`).join('\n'),
    )
    assert.equal((await two.whoami(cookie))?.n, 200)
  })

  test('a write racing a destroy in another tab gets 409 and the session stays ended', async () => {
    const conn = await freshTable('conc-destroy')
    const held = latch()
    const inHandler = latch()
    const tabA = testApp(conn)
    tabA.pauseWith(async () => {
      inHandler.open()
      await held.opened
    })
    const tabB = testApp(conn)
    const cookie = cookieOf(await tabB.post('/set/seed/seed'))
    // Tab A has loaded the session and is inside its handler when tab B logs out.
    const write = tabA.post('/set/late/late', cookie)
    await inHandler.opened
    const logout = await tabB.post('/logout', cookie)
    assert.equal(logout.status, 200)
    assert.equal(await liveItems(conn.table), 0)
    held.open()
    const res = await write
    assert.equal(res.status, 409)
    assert.deepEqual(tabA.codes(), ['SESSION_GONE'])
    // Only destroy's own response clears the cookie; the late request touches it not at all.
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.equal(await liveItems(conn.table), 0, 'the write did not resurrect the session')
    const read = await tabB.get('/read', cookie)
    const { isNew, data } = (await read.json()) as { isNew: boolean; data: object }
    assert.deepEqual({ isNew, data }, { isNew: true, data: {} })
  })
})
