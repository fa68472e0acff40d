/**
 * @module Expressions of DynamoDB requests: one builder hands out the aliases of names and
 * values, and the conditions every write shares are written once here.
 */
import type { AttributeValue } from '../marshall.ts'
import { N } from './item.ts'

/**
 * The names and values of one request's expressions. The same attribute name always gets the
 * same alias, so no code counts aliases or relies on a naming convention to avoid collisions.
 */
export class Expression {
  /**
   * The request's `ExpressionAttributeNames` and `ExpressionAttributeValues`, each from its first
   * alias on (DynamoDB refuses empty ones).
   */
  readonly input: {
    ExpressionAttributeNames?: Record<string, string>
    ExpressionAttributeValues?: Record<string, AttributeValue>
  } = {}
  readonly #aliases = new Map<string, string>()
  #values = 0

  /** The alias path of an attribute, or of keys inside map attributes: `#0`, `#0.#1`. */
  path(...names: string[]): string {
    return names
      .map((name) => {
        let alias = this.#aliases.get(name)
        if (!alias) {
          alias = `#${this.#aliases.size.toString(36)}`
          this.#aliases.set(name, alias)
          this.input.ExpressionAttributeNames ??= {}
          this.input.ExpressionAttributeNames[alias] = name
        }
        return alias
      })
      .join('.')
  }

  /** The alias of a value. */
  value(v: AttributeValue): string {
    const alias = `:${(this.#values++).toString(36)}`
    this.input.ExpressionAttributeValues ??= {}
    this.input.ExpressionAttributeValues[alias] = v
    return alias
  }
}

/** The session is live: it has data and has not expired at `now` (epoch seconds). */
export const live = (x: Expression, now: number): string =>
  `attribute_exists(${x.path('data')}) AND ${x.path('expires')} > ${x.value(N(now))}`

/** Nothing was written since version `v` was read (an item written by 0.1 has no version). */
export const versioned = (x: Expression, v: number): string =>
  v ? `${x.path('v')} = ${x.value(N(v))}` : `attribute_not_exists(${x.path('v')})`

/** This request holds the lease, with `locking`. */
export const leaseHeld = (x: Expression, lease: string): string =>
  `${x.path('leaseOwner')} = ${x.value({ S: lease })}`

/**
 * The parts of an update that give the lease back: the lease removed, and the lease floor raised
 * to now, so no take sent before it can hold the lease (`lease.ts`).
 */
export const releasing = (x: Expression): { set: string; remove: string } => ({
  set: `${x.path('lf')} = ${x.value(N(Date.now()))}`,
  remove: `${x.path('lease')}, ${x.path('leaseOwner')}`,
})

/** All of the conditions given, joined with AND. */
export const all = (...conditions: (string | false | undefined)[]): string =>
  conditions.filter(Boolean).join(' AND ')
