// `Data` (and `Flash`) hold JSON values: checked where the type is given, at `SessionEnv<Data>`
// and `dynamoSession<Data>()`. Each refused line has an accepted twin just above it.
import { Hono } from 'hono'
import {
  dynamoSession,
  type JsonCompatible,
  type JsonValue,
  type Session,
  type SessionEnv,
} from '../../src/index.ts'
import { any, type Equal, expect } from './helpers.ts'

// Interfaces need no index signature.
interface Profile {
  name: string
  tags: readonly string[]
  address?: { city: string; zip: string | null }
}
interface User {
  id: string
  profile: Profile
  logins: number
  roles: ('admin' | 'user')[]
  pair: [number, string]
  note?: string
  nickname: string | undefined
  anything: unknown
  json: JsonValue
}
export type Accepted = [
  SessionEnv,
  SessionEnv<User>,
  SessionEnv<Profile>,
  SessionEnv<{ userId: string; cart: string[] }>,
  SessionEnv<Record<string, unknown>>,
  SessionEnv<Record<string, JsonValue>>,
  SessionEnv<Record<string, number>>,
  // biome-ignore lint/suspicious/noExplicitAny: `any` values are accepted, as `unknown` ones are
  SessionEnv<{ loose: any }>,
  SessionEnv<{ nothing: null }>,
  SessionEnv<{ deep: { deeper: { deepest: boolean[][] } } }>,
]
new Hono<SessionEnv<User>>().use(dynamoSession<User>())

// The constraint accepts the type as written, and nothing wider.
expect<Equal<User extends JsonCompatible<User> ? true : false, true>>()
expect<Equal<Session<User>, SessionEnv<User>['Variables']['session']>>()

// @ts-expect-error 'Date' is not assignable to type 'never'
export type RefusedDate = SessionEnv<{ when: Date }>
// @ts-expect-error 'Date' is not assignable to type 'never'
export type RefusedNestedDate = SessionEnv<{ user: { born: Date } }>
// @ts-expect-error 'Date' is not assignable to type 'never'
export type RefusedDates = SessionEnv<{ days: Date[] }>
// @ts-expect-error 'Map<string, number>' is not assignable to type 'never'
export type RefusedMap = SessionEnv<{ counts: Map<string, number> }>
// @ts-expect-error 'Set<string>' is not assignable to type 'never'
export type RefusedSet = SessionEnv<{ seen: Set<string> }>
// @ts-expect-error '() => void' is not assignable to type 'never'
export type RefusedFunction = SessionEnv<{ callback: () => void }>
// @ts-expect-error 'bigint' is not assignable to type 'never'
export type RefusedBigInt = SessionEnv<{ big: bigint }>
// @ts-expect-error 'symbol' is not assignable to type 'never'
export type RefusedSymbol = SessionEnv<{ sym: symbol }>
// @ts-expect-error 'undefined' is not assignable to type 'never'
export type RefusedUndefined = SessionEnv<{ nothing: undefined }>
// @ts-expect-error is not assignable to type '{ nothing: never; }'
export type RefusedOptionalUndefined = SessionEnv<{ nothing?: undefined }>
// An object with methods is a class instance at run time, not a plain object.
interface WithMethod {
  name: string
  greet(): string
}
// @ts-expect-error '() => string' is not assignable to type 'never'
export type RefusedMethod = SessionEnv<WithMethod>
// @ts-expect-error '() => string' is not assignable to type 'never'
export type RefusedUrl = SessionEnv<{ link: URL }>

// The same at the middleware, and for flash values.
dynamoSession<{ when: string }>()
// @ts-expect-error 'Date' is not assignable to type 'never'
dynamoSession<{ when: Date }>()
dynamoSession<{ n: number }, 'session', { notice: string }>()
// @ts-expect-error 'Date' is not assignable to type 'never'
dynamoSession<{ n: number }, 'session', { at: Date }>()
// @ts-expect-error 'Date' is not assignable to type 'never'
export type RefusedFlash = SessionEnv<{ n: number }, 'session', { at: Date }>

// A helper over any session with a `user` key needs no JSON constraint of its own.
function userOf<D extends { user?: string }>(s: Session<D>): string {
  return s.get('user') ?? 'anonymous'
}
userOf(any<Session<{ user?: string; n: number }>>())
// @ts-expect-error 'number' is not assignable to type 'string'
userOf(any<Session<{ user?: number }>>())
