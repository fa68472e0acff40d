// Assertions for the type tests: `expect<Equal<A, B>>()` fails to compile unless A and B are the
// same type. Nothing here runs.

/** True when A and B are identical types (not merely assignable either way). */
export type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false

/** Compiles only when given `true`. */
export const expect = <T extends true>(): T | undefined => undefined

/** A value of any type, for calls that are compiled and never run. */
export declare function any<T>(): T

/** Compiles only when `value` is assignable to T. */
export const accepts = <T>(_value: T): void => {}
