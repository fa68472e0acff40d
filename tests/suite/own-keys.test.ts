// Session data and flash values are maps of own keys: prototype names (`constructor`,
// `__proto__`, `toString`…) are ordinary keys, set, read, deleted, incremented and stored as such,
// and nothing reaches Object.prototype.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { testApp } from '../support/app.ts'
import { cookieOf } from '../support/cookies.ts'
import { freshTable, rawItem } from '../support/dynamodb.ts'
import { canonical, opsApp } from '../support/ops.ts'

const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']

describe('session data and flash values are maps of own keys', () => {
  test('a new session has no inherited keys, and takes prototype names as ordinary keys', async () => {
    const conn = await freshTable('own-new')
    const a = opsApp(conn)
    const reads = PROTO_NAMES.flatMap((key) => [
      { op: 'has', key } as const,
      { op: 'get', key } as const,
    ])
    const empty = await a.run(reads)
    assert.equal(empty.status, 200)
    assert.deepEqual(
      empty.outcomes,
      PROTO_NAMES.flatMap(() => [{ type: 'boolean', value: false }, { type: 'undefined' }]),
    )
    assert.deepEqual(a.ops(), [], 'reads of a new session cost nothing')

    const written = await a.run([
      { op: 'set', key: 'constructor', value: 'c' },
      { op: 'increment', key: '__proto__' },
      { op: 'increment', key: 'toString', by: 2 },
      { op: 'set', key: 'hasOwnProperty', value: { nested: true } },
      { op: 'has', key: 'constructor' },
      { op: 'get', key: 'toString' },
    ])
    assert.equal(written.status, 200)
    assert.ok(
      written.outcomes.slice(0, 4).every((o) => !('error' in o)),
      JSON.stringify(written.outcomes),
    )
    assert.deepEqual(written.outcomes.slice(4), [
      { type: 'boolean', value: true },
      { type: 'number', value: 2 },
    ])
    assert.deepEqual(a.ops(), ['PutItem'])
    const cookie = cookieOf(written.res)
    const item = await rawItem(conn, cookie)
    assert.equal(
      canonical(item.data.M),
      canonical({
        constructor: { S: 'c' },
        ['__proto__']: { N: '1' },
        toString: { N: '2' },
        hasOwnProperty: { M: { nested: { BOOL: true } } },
      }),
    )
  })

  test('a stored session: prototype names are set, read, deleted and incremented', async () => {
    const conn = await freshTable('own-stored')
    const a = opsApp(conn)
    const cookie = cookieOf((await a.run([{ op: 'set', key: 'seed', value: 1 }])).res)

    // Not there yet: no inherited value, a delete is no change, an increment starts from 0.
    a.reset()
    const first = await a.run(
      [
        ...PROTO_NAMES.map((key) => ({ op: 'get', key }) as const),
        ...PROTO_NAMES.map((key) => ({ op: 'has', key }) as const),
        { op: 'delete', key: 'toString' },
      ],
      cookie,
    )
    assert.equal(first.status, 200)
    assert.ok(first.outcomes.slice(0, 5).every((o) => 'type' in o && o.type === 'undefined'))
    assert.ok(first.outcomes.slice(5, 10).every((o) => 'value' in o && o.value === false))
    assert.deepEqual(a.ops(), ['GetItem'], 'deleting an absent key writes nothing')

    a.reset()
    const second = await a.run(
      [
        { op: 'increment', key: 'constructor' },
        { op: 'increment', key: '__proto__', by: 5 },
        { op: 'set', key: 'toString', value: 'ts' },
        { op: 'flash', key: '__proto__', value: 'flashed' },
      ],
      cookie,
    )
    assert.equal(second.status, 200, second.text)
    assert.deepEqual(
      second.outcomes.map((o) => ('error' in o ? o.message : 'ok')),
      ['ok', 'ok', 'ok', 'ok'],
    )
    assert.deepEqual(a.ops(), ['GetItem', 'UpdateItem'])
    assert.equal(
      canonical((await rawItem(conn, cookie)).data.M),
      canonical({
        seed: { N: '1' },
        constructor: { N: '1' },
        ['__proto__']: { N: '5' },
        toString: { S: 'ts' },
      }),
    )

    const third = await a.run(
      [
        { op: 'get', key: 'constructor' },
        { op: 'get', key: '__proto__' },
        { op: 'takeFlash', key: '__proto__' },
        { op: 'takeFlash', key: 'toString' },
        { op: 'increment', key: 'constructor', by: 10 },
        { op: 'delete', key: 'toString' },
        { op: 'delete', key: '__proto__' },
      ],
      cookie,
    )
    assert.equal(third.status, 200, third.text)
    assert.deepEqual(third.outcomes.slice(0, 4), [
      { type: 'number', value: 1 },
      { type: 'number', value: 5 },
      { type: 'string', value: 'flashed' },
      { type: 'undefined' },
    ])
    assert.equal(
      canonical((await rawItem(conn, cookie)).data.M),
      canonical({ seed: { N: '1' }, constructor: { N: '11' } }),
    )
  })

  test('nested values with prototype-named keys round-trip exactly through DynamoDB', async () => {
    const conn = await freshTable('own-nested')
    const a = opsApp(conn)
    const text =
      '{"__proto__":{"admin":true,"__proto__":[1,{"__proto__":null}]},"constructor":{"prototype":{"polluted":1}},"toString":"x","list":[{"__proto__":{"deep":"y"}}]}'
    const value = JSON.parse(text)
    assert.ok(Object.hasOwn(value, '__proto__'), 'JSON.parse makes __proto__ an own key')
    const created = await a.run([
      { op: 'set', key: 'profile', value },
      { op: 'flash', key: 'notice', value },
    ])
    assert.equal(created.status, 200, created.text)
    const cookie = cookieOf(created.res)
    const stored = (await rawItem(conn, cookie)).data.M.profile.M
    assert.ok(Object.hasOwn(stored, '__proto__'), 'stored under the key "__proto__"')
    assert.deepEqual(Object.keys(stored).sort(), ['__proto__', 'constructor', 'list', 'toString'])

    const read = await a.run(
      [
        { op: 'get', key: 'profile' },
        { op: 'takeFlash', key: 'notice' },
      ],
      cookie,
    )
    assert.equal(read.status, 200)
    const [profile, notice] = read.outcomes as { value: unknown }[]
    assert.equal(canonical(profile.value), canonical(value))
    assert.equal(canonical(notice.value), canonical(value))
    // Changing another key leaves the nested value as it was (not rewritten, not reshaped).
    const again = await a.run([{ op: 'set', key: 'other', value: 1 }], cookie)
    assert.equal(again.status, 200)
    assert.equal(canonical(read.data.profile), canonical(value))
    assert.equal(({} as Record<string, unknown>).admin, undefined, 'Object.prototype is untouched')
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })

  test('increments of "constructor" and "__proto__" on a stored session are both stored, 200', async () => {
    const conn = await freshTable('rv-proto')
    const a = testApp(conn)
    a.app.post('/increment-proto', (c) => {
      c.get('session').increment('constructor')
      c.get('session').increment('__proto__', 2)
      return c.text('ok')
    })
    const cookie = cookieOf(await a.post('/set/k0/0'))
    const res = await a.post('/increment-proto', cookie)
    assert.equal(res.status, 200, a.errors.map((e) => e.message).join('\n'))
    const data = (await rawItem(conn, cookie)).data.M
    assert.equal(data.constructor?.N, '1')
    assert.equal(Object.getOwnPropertyDescriptor(data, '__proto__')?.value?.N, '2')
  })
})
