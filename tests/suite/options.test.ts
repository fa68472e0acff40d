// Bad options fail when dynamoSession() is called, naming the option and what is allowed.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DynamoSessionError, dynamoSession } from '../../src/index.ts'

const bad: [string, Record<string, unknown>, RegExp][] = [
  ['maxAge: -1', { maxAge: -1 }, /maxAge must be a positive integer number of seconds, got -1/],
  ['maxAge: 1.5', { maxAge: 1.5 }, /maxAge must be a positive integer/],
  ['maxAge: "60"', { maxAge: '60' }, /maxAge .* got "60"/],
  [
    "cookie.sameSite: 'Wrong'",
    { cookie: { sameSite: 'Wrong' } },
    /cookie\.sameSite must be 'Strict', 'Lax' or 'None', got "Wrong"/,
  ],
  [
    "secret: ''",
    { secret: '' },
    /secret must be a string of at least 32 characters.*got a string of 0 characters/,
  ],
  ['secret: []', { secret: [] }, /secret must be a non-empty array, got an array of 0/],
  [
    'a short secret in a list, by its place',
    { secret: ['a-secret-that-is-long-enough-0123456789', 'short'] },
    /secret\[1\] must be a string of at least 32 characters, got a string of 5 characters/,
  ],
  ['a short secret', { secret: 'short' }, /secret must be a string of at least 32/],
  [
    'touchAfter > maxAge',
    { maxAge: 10, touchAfter: 20 },
    /touchAfter must be at most maxAge \(10\), got 20/,
  ],
  ['an unknown option', { maxage: 10 }, /unknown option maxage \(did you mean maxAge\?\); allowed/],
  [
    'an unknown cookie option',
    { cookie: { secrue: true } },
    /unknown option cookie\.secrue \(did you mean cookie\.secure\?\)/,
  ],
  ['an unknown option far from any', { frobnicate: 1 }, /unknown option frobnicate; allowed/],
  ['a bad cookie name', { cookie: { name: 'a b' } }, /cookie\.name must be a cookie name/],
  [
    "sameSite 'None' without secure",
    { cookie: { sameSite: 'None', secure: false } },
    /cookie\.secure must be true/,
  ],
  [
    '__Host- with a domain',
    { cookie: { name: '__Host-sid', domain: 'example.com' } },
    /__Host- prefix/,
  ],
  ['retry.attempts: 0', { retry: { attempts: 0 } }, /retry\.attempts must be a positive integer/],
  [
    'locking.leaseMs: 0',
    { locking: { leaseMs: 0 } },
    /locking\.leaseMs must be a positive integer/,
  ],
  [
    'a schema that is not a Standard Schema',
    { schema: { parse() {} } },
    /schema must be a Standard Schema/,
  ],
  [
    'credentials without a secret key',
    { credentials: { accessKeyId: 'x' } },
    /credentials must be/,
  ],
  ['a bad endpoint', { endpoint: 'localhost:8000' }, /endpoint must be an http\(s\) URL/],
  ['a bad table name', { table: 'a' }, /table must be a DynamoDB table name/],
  ['onError that is not a function', { onError: 'log' }, /onError must be a function/],
]

describe('options', () => {
  for (const [name, options, message] of bad) {
    test(`${name} throws at factory time naming the option`, () => {
      assert.throws(
        () => dynamoSession(options as never),
        (error: unknown) => {
          assert.ok(error instanceof DynamoSessionError)
          assert.equal(error.code, 'INVALID_OPTIONS')
          assert.match(error.message, message)
          // The option at fault is a field, for callers that name options their own way.
          assert.ok(error.option && error.message.includes(error.option), error.option)
          return true
        },
      )
    })
  }

  test('good options are accepted and the caller object is not changed', () => {
    const options = {
      cookie: { name: '__Host-sid', sameSite: 'strict' as const },
      secret: ['x'.repeat(32), 'y'.repeat(40)],
      maxAge: 60,
      locking: true,
    }
    const copy = structuredClone(options)
    assert.equal(typeof dynamoSession(options), 'function')
    assert.deepEqual(options, copy)
  })
})
