// Unit tests of the pure marshalling functions.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  attributeSize,
  fromAttribute,
  type JsonValue,
  toAttribute,
  utf8Length,
  whyNotJson,
} from '../../src/marshall.ts'

describe('marshalling', () => {
  test('every JSON type maps to its DynamoDB type', () => {
    assert.deepEqual(toAttribute('s'), { S: 's' })
    assert.deepEqual(toAttribute(1.5), { N: '1.5' })
    assert.deepEqual(toAttribute(true), { BOOL: true })
    assert.deepEqual(toAttribute(null), { NULL: true })
    assert.deepEqual(toAttribute([1, 'a']), { L: [{ N: '1' }, { S: 'a' }] })
    assert.deepEqual(toAttribute({ a: { b: [] } }), { M: { a: { M: { b: { L: [] } } } } })
  })

  test('numbers outside DynamoDB range round-trip through binary', () => {
    for (const n of [1e300, -1e300, 5e-324, -1e-200, 1.7976931348623157e308]) {
      const attribute = toAttribute(n)
      assert.ok('B' in attribute, `${n} is stored as B`)
      assert.equal(fromAttribute(attribute), n)
    }
    for (const n of [0, 1e125, -1e-130, 123.456, Number.MAX_SAFE_INTEGER]) {
      assert.ok('N' in toAttribute(n))
      assert.equal(fromAttribute(toAttribute(n)), n)
    }
  })

  test('random JSON values round-trip', () => {
    let seed = 7
    const random = () => {
      seed = (seed * 16807) % 2147483647
      return seed / 2147483647
    }
    const make = (depth: number): JsonValue => {
      const r = random()
      if (depth > 3 || r < 0.3) {
        const pick = Math.floor(random() * 5)
        if (pick === 0) return (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20)
        if (pick === 1)
          return String.fromCharCode(
            ...Array.from({ length: 5 }, () => Math.floor(random() * 0xd7ff)),
          )
        if (pick === 2) return random() < 0.5
        if (pick === 3) return null
        return Math.floor(random() * 1e6)
      }
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => make(depth + 1))
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 4) }, (_, i) => [`k${i}.#`, make(depth + 1)]),
      )
    }
    for (let i = 0; i < 500; i++) {
      const value = make(0)
      assert.deepEqual(fromAttribute(toAttribute(value)), value)
    }
  })

  test('whyNotJson explains what is wrong and where', () => {
    assert.equal(whyNotJson({ a: [1, 'x', null, { b: true }] }), undefined)
    assert.match(whyNotJson({ a: [1, new Date()] }) ?? '', /^\.a: \[1\]: a Date instance/)
    assert.match(whyNotJson({ '': 1 }) ?? '', /empty key/)
    assert.match(whyNotJson(Object.create({ x: 1 })) ?? '', /not a plain object/)
    assert.equal(whyNotJson(Object.create(null)), undefined)
  })

  test('sizes follow DynamoDB rules', () => {
    assert.equal(utf8Length('aé€😀'), 1 + 2 + 3 + 4)
    assert.equal(attributeSize({ S: 'abc' }), 3)
    assert.equal(attributeSize({ BOOL: true }), 1)
    assert.equal(attributeSize({ M: { ab: { S: 'x' } } }), 3 + 2 + 1 + 1)
  })
})
