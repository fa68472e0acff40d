// The session's methods: keys, value types, increment, flash. Each refused line has an accepted
// twin just above it.
import type { JsonValue, Session } from '../../src/index.ts'
import { accepts, any, type Equal, expect } from './helpers.ts'

interface Data {
  userId: string
  visits: number
  score?: number
  cart: string[]
  nickname?: string
  theme: 'light' | 'dark'
  level: 1 | 2 | 3
  ratio: number | null
  idOrCount: string | number
  anything: unknown
  json: JsonValue
}
const s = any<Session<Data>>()

// get: known keys only, the key's type or undefined.
expect<Equal<ReturnType<typeof s.get<'visits'>>, number | undefined>>()
expect<Equal<ReturnType<typeof s.get<'cart'>>, string[] | undefined>>()
// @ts-expect-error Argument of type '"userID"' is not assignable
s.get('userID')

// set: known keys, the key's type, never undefined.
s.set('userId', 'u1')
// @ts-expect-error Argument of type '"userID"' is not assignable
s.set('userID', 'u1')
// @ts-expect-error Argument of type 'number' is not assignable to parameter of type 'string'
s.set('userId', 1)
s.set('cart', ['apple'])
// @ts-expect-error Type 'number' is not assignable to type 'string'
s.set('cart', [1])
s.set('theme', 'dark')
// @ts-expect-error Argument of type '"blue"' is not assignable
s.set('theme', 'blue')
s.set('nickname', 'bob')
// @ts-expect-error Argument of type 'undefined' is not assignable to parameter of type 'string'
s.set('nickname', undefined)
// @ts-expect-error Argument of type 'undefined' is not assignable to parameter of type 'number'
s.set('score', undefined)
s.set('ratio', null)
// @ts-expect-error Argument of type 'undefined' is not assignable
s.set('ratio', undefined)
s.set('json', { a: [1, 'two', null] })
// @ts-expect-error Argument of type 'Date' is not assignable to parameter of type 'JsonValue'
s.set('json', new Date())
// An `unknown` key is checked at run time only (a TypeError naming the key).
s.set('anything', new Date())

// delete, has: known keys only.
s.delete('nickname')
// @ts-expect-error Argument of type '"nick"' is not assignable
s.delete('nick')
s.has('cart')
// @ts-expect-error Argument of type '"carts"' is not assignable
s.has('carts')

// data: a read-only copy.
expect<Equal<typeof s.data, Readonly<Partial<Data>>>>()
// @ts-expect-error Cannot assign to 'visits' because it is a read-only property
s.data.visits = 1

// increment: keys typed `number` (optional or not), or any JSON value.
s.increment('visits')
s.increment('score', 2)
s.increment('anything')
s.increment('json', -1)
// @ts-expect-error Argument of type '"userId"' is not assignable
s.increment('userId')
// @ts-expect-error Argument of type '"cart"' is not assignable
s.increment('cart')
// @ts-expect-error Argument of type '"theme"' is not assignable
s.increment('theme')
// A literal union could leave its range: 3 + 1.
// @ts-expect-error Argument of type '"level"' is not assignable
s.increment('level')
// null is stored as null, and null + 1 is refused at run time.
// @ts-expect-error Argument of type '"ratio"' is not assignable
s.increment('ratio')
// @ts-expect-error Argument of type '"idOrCount"' is not assignable
s.increment('idOrCount')
// @ts-expect-error Argument of type '"missing"' is not assignable
s.increment('missing')
// @ts-expect-error Argument of type 'string' is not assignable to parameter of type 'number'
s.increment('visits', '2')

// A session with no number key has no increment at all.
const words = any<Session<{ a: string; b: boolean }>>()
// @ts-expect-error Argument of type '"a"' is not assignable to parameter of type 'never'
words.increment('a')

// The default Data: any key, values unknown, increment on any key.
const loose = any<Session>()
expect<Equal<ReturnType<typeof loose.get<'x'>>, unknown>>()
loose.set('x', { deep: [1] })
loose.increment('visits')

// flash, by default: any key, JSON values only, never undefined.
s.flash('notice', 'Signed in')
s.flash('form', { email: 'a@example.com', errors: ['too short'] })
// @ts-expect-error Argument of type 'Date' is not assignable to parameter of type 'JsonValue'
s.flash('notice', new Date())
// @ts-expect-error Argument of type '() => number' is not assignable to parameter of type 'JsonValue'
s.flash('notice', () => 1)
// @ts-expect-error Argument of type 'undefined' is not assignable to parameter of type 'JsonValue'
s.flash('notice', undefined)
// @ts-expect-error Argument of type '1n' is not assignable to parameter of type 'JsonValue'
s.flash('notice', 1n)
// @ts-expect-error Argument of type 'Map<any, any>' is not assignable to parameter of type 'JsonValue'
s.flash('notice', new Map())
expect<Equal<ReturnType<typeof s.takeFlash<'notice'>>, JsonValue | undefined>>()

// flash, typed by the second type parameter.
interface Flash {
  notice: string
  form?: { email: string; errors: string[] }
}
const f = any<Session<Data, Flash>>()
f.flash('notice', 'Signed in')
// @ts-expect-error Argument of type 'number' is not assignable to parameter of type 'string'
f.flash('notice', 1)
// @ts-expect-error Argument of type '"notise"' is not assignable
f.flash('notise', 'Signed in')
f.flash('form', { email: 'a@example.com', errors: [] })
// @ts-expect-error Argument of type 'undefined' is not assignable
f.flash('form', undefined)
// @ts-expect-error Object literal may only specify known properties
f.flash('form', { email: 'a@example.com', errors: [], extra: 1 })
expect<Equal<ReturnType<typeof f.takeFlash<'notice'>>, string | undefined>>()
expect<Equal<ReturnType<typeof f.takeFlash<'form'>>, Flash['form'] | undefined>>()
// @ts-expect-error Argument of type '"notise"' is not assignable
f.takeFlash('notise')
accepts<string>(f.takeFlash('notice') ?? '')
// @ts-expect-error Argument of type 'string | undefined' is not assignable to parameter of type 'number'
accepts<number>(f.takeFlash('notice'))

// Object literals keep their excess-property check.
const o = any<Session<{ user: { name: string } }>>()
o.set('user', { name: 'bob' })
// @ts-expect-error Object literal may only specify known properties
o.set('user', { name: 'bob', admin: true })
