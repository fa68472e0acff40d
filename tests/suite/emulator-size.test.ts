// Two item-size functions, on purpose. The library's attributeSize()/mapSize() (src/marshall.ts)
// estimate, from the text the library sends, whether a session fits DynamoDB's 400 KB before it
// is sent. The in-memory DynamoDB's valueSize()/itemSize() (src/testing/size.ts) must count
// exactly as DynamoDB Local does, since it refuses items and charges capacity by that count (the
// size cases of tests/fixtures/emulator-limits.ts prove it against DynamoDB Local). They share
// utf8Length() and agree on strings, booleans, nulls and the shape of maps and lists; they differ
// where DynamoDB does not count characters of the text.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { attributeSize, mapSize } from '../../src/marshall.ts'
import { itemSize, valueSize } from '../../src/testing/size.ts'

type Value = Parameters<typeof attributeSize>[0]

describe("the kit's item size and the library's estimate", () => {
  test('agree on strings, booleans, nulls, and maps and lists of them', () => {
    const values: Value[] = [
      { S: '' },
      { S: 'aé€😀' },
      { BOOL: true },
      { NULL: true },
      { L: [{ S: 'x' }, { BOOL: false }, { L: [] }] },
      { M: { a: { S: 'x' }, ключ: { M: { b: { NULL: true } } } } },
    ]
    for (const v of values) assert.equal(valueSize(v), attributeSize(v), JSON.stringify(v))
  })

  test('differ on numbers: DynamoDB counts pairs of digits and a byte for the sign', () => {
    // [number, DynamoDB Local's count (measured), the library's estimate]
    const numbers: [string, number, number][] = [
      ['12', 2, 2],
      ['100', 2, 3], // trailing zero pairs are not stored
      ['1000000', 2, 5],
      ['-1', 3, 2], // the estimate is short by one for a negative number of odd length
      ['-123', 4, 3],
      ['3.14159', 5, 5],
      ['0.001', 2, 4],
    ]
    for (const [n, dynamodb, estimate] of numbers) {
      assert.equal(valueSize({ N: n }), dynamodb, `kit: ${n}`)
      assert.equal(attributeSize({ N: n }), estimate, `library: ${n}`)
    }
  })

  test('differ on binaries: DynamoDB counts bytes, the estimate base64 characters', () => {
    assert.equal(valueSize({ B: 'AAEC' }), 3)
    assert.equal(attributeSize({ B: 'AAEC' }), 4)
  })

  test("differ on an item's top level: one byte per attribute in the estimate, none in DynamoDB", () => {
    const item = { id: { S: 'a' }, data: { M: { k: { S: 'v' } } } }
    assert.equal(itemSize(item), 2 + 1 + 4 + (3 + 1 + 1 + 1))
    assert.equal(mapSize(item), itemSize(item) + Object.keys(item).length)
  })
})
