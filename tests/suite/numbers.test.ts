// Numbers: increments stay in DynamoDB's number range (a TypeError at the call otherwise), a
// number stored as binary past it reads back and is incremented whole, a value that stopped being
// a number is reported as NOT_A_NUMBER, and sparse arrays are refused.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { testApp } from '../support/app.ts'
import { withConsoleError } from '../support/console.ts'
import { cookieOf } from '../support/cookies.ts'
import { freshTable, patchItem, rawItem } from '../support/dynamodb.ts'
import { opsApp } from '../support/ops.ts'

describe('numbers stay within what DynamoDB can store and add', () => {
  test('a number stored as binary (magnitude 1e126 and up) reads back, and increment() writes the sum whole', async () => {
    // DynamoDB cannot add to a binary attribute: the sum this request computed is written.
    const conn = await freshTable('num-binary')
    const a = opsApp(conn)
    const cookie = cookieOf(
      (
        await a.run([
          { op: 'set', key: 'big', value: 1e130 },
          { op: 'set', key: 'edge', value: -1e126 },
        ])
      ).res,
    )
    const item = await rawItem(conn, cookie)
    assert.ok(item.data.M.big.B, 'stored as binary: DynamoDB numbers stop below 1e126')
    const r = await a.run(
      [
        { op: 'get', key: 'big' },
        { op: 'increment', key: 'big', by: 1e128 },
        { op: 'increment', key: 'edge', by: -1e126 },
      ],
      cookie,
    )
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(r.outcomes[0], { type: 'number', value: 1e130 })
    assert.deepEqual(r.data, { big: 1e130 + 1e128, edge: -2e126 })
    assert.deepEqual((await a.run([{ op: 'get', key: 'big' }], cookie)).data, r.data)
    assert.deepEqual(a.errors, [])
  })

  test('an increment back into range from a binary-stored number gives the right sum, stored as a number', async () => {
    const conn = await freshTable('num-binary-back')
    const a = opsApp(conn)
    const cookie = cookieOf(
      (
        await a.run([
          { op: 'set', key: 'big', value: 1e126 },
          { op: 'set', key: 'tiny', value: 1e-200 },
        ])
      ).res,
    )
    assert.ok((await rawItem(conn, cookie)).data.M.big.B)
    const r = await a.run(
      [
        { op: 'increment', key: 'big', by: -5e125 },
        { op: 'increment', key: 'tiny', by: 1 },
      ],
      cookie,
    )
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(r.data, { big: 5e125, tiny: 1 })
    const stored = (await rawItem(conn, cookie)).data.M
    assert.equal(Number(stored.big.N), 5e125, 'a number again, which DynamoDB can add to')
    assert.equal(Number(stored.tiny.N), 1)
    assert.deepEqual(a.errors, [])
  })

  test('increment(k, by) with a by or a sum out of range is a TypeError naming the key, at the call', async () => {
    const conn = await freshTable('num-range')
    const a = opsApp(conn)
    const cookie = cookieOf((await a.run([{ op: 'set', key: 'n', value: 1e125 }])).res)
    a.reset()
    const r = await a.run(
      [
        { op: 'increment', key: 'tiny', by: 1e-200 },
        { op: 'increment', key: 'n', by: 9e125 },
        { op: 'increment', key: 'neg', by: -1e127 },
        { op: 'increment', key: 'n', by: 1e125 },
      ],
      cookie,
    )
    assert.equal(r.status, 200)
    const names = ['tiny', 'n', 'neg']
    for (const [i, key] of names.entries()) {
      const o = r.outcomes[i] as { error: string; message: string }
      assert.equal(o.error, 'TypeError', JSON.stringify(o))
      assert.ok(o.message.includes(`"${key}"`), o.message)
    }
    assert.ok(!('error' in r.outcomes[3]), 'a sum inside the range is fine')
    assert.deepEqual(r.data, { n: 2e125 }, 'the refused increments changed nothing')
    const item = await rawItem(conn, cookie)
    assert.equal(Number(item.data.M.n.N), 2e125)
    assert.equal(item.data.M.tiny, undefined)
  })

  test('a stored value that stopped being a number under a pending increment gives NOT_A_NUMBER, not a raw DynamoDB message', async () => {
    const conn = await freshTable('num-nan')
    let cookie = ''
    // Without onError: the error is logged by the library, and the response is Hono's.
    const a = testApp(conn, { onError: undefined, appOnError: null })
    a.app.post('/inc', async (c) => {
      c.get('session').increment('n')
      if (cookie) {
        // Another writer (an older release, a script) turns n into a string meanwhile.
        await patchItem(conn, cookie, 'SET #d.n = :s', { ':s': { S: 'five' } }, { '#d': 'data' })
      }
      return c.text('ok')
    })
    cookie = cookieOf(await a.post('/inc'))
    const { result: res, lines } = await withConsoleError(() => a.post('/inc', cookie))
    assert.equal(res.status, 500)
    assert.equal(await res.text(), 'Internal Server Error')
    assert.equal(lines.length, 1)
    assert.match(lines[0].text, /^DynamoSessionError NOT_A_NUMBER: /)
  })

  test('sparse arrays are refused by set() and flash() with a TypeError naming the key', async () => {
    const conn = await freshTable('num-sparse')
    const a = opsApp(conn)
    const hole = JSON.parse('[1,2,3]')
    delete hole[1]
    const r = await a.run([
      { op: 'sparse', key: 'list' },
      { op: 'set', key: 'ok', value: [1, null, 3] },
    ])
    assert.equal(r.status, 200)
    const o = r.outcomes[0] as { error: string; message: string }
    assert.equal(o.error, 'TypeError')
    assert.match(o.message, /"list"/)
    assert.match(o.message, /sparse/)
    assert.deepEqual(r.data, { ok: [1, null, 3] })
    // Nested, and through flash, from a handler of its own (JSON cannot carry a hole).
    const own = testApp(conn)
    own.app.get('/holes', (c) => {
      const s = c.get('session')
      const messages: string[] = []
      // biome-ignore lint/suspicious/noSparseArray: the hole is the point
      for (const f of [() => s.set('deep', { a: [1, , 2] }), () => s.flash('f', [, 1] as never)]) {
        try {
          f()
        } catch (e) {
          messages.push(`${(e as Error).name}: ${(e as Error).message}`)
        }
      }
      return c.json(messages)
    })
    const messages = (await (await own.get('/holes')).json()) as string[]
    assert.equal(messages.length, 2)
    assert.match(messages[0], /^TypeError: .*"deep".*sparse/)
    assert.match(messages[1], /^TypeError: .*"f".*sparse/)
  })
})
