/**
 * @module Applies a parsed projection expression: the named paths of an item, in its shape.
 */
import { type AttributeValue, clone, type Item, own, put, typeOf } from '../values.ts'
import type { Path } from './ast.ts'
import { resolve } from './document.ts'

/** The paths of an item named by a projection, in the item's shape. */
export function project(item: Item, paths: Path[]): Item {
  const out: AttributeValue = { M: {} }
  for (const path of paths) {
    const value = resolve(item, path)
    if (!value) continue
    let source: AttributeValue = { M: item }
    let target = out
    path.forEach((p, i) => {
      const last = i === path.length - 1
      if (typeof p === 'number') {
        const element = source.L[p]
        target.L ??= []
        // Projected list elements keep their order; positions close up.
        let slot = target.L.find((e: AttributeValue & { _i?: number }) => e._i === p)
        if (!slot) {
          slot = last ? clone(element) : { [typeOf(element)]: typeOf(element) === 'L' ? [] : {} }
          Object.defineProperty(slot, '_i', { value: p, enumerable: false })
          target.L.push(slot)
          target.L.sort((a: { _i: number }, b: { _i: number }) => a._i - b._i)
        }
        source = element
        target = slot
      } else {
        const element = own(source.M, p)
        target.M ??= {}
        if (last) put(target.M, p, clone(element))
        else if (!own(target.M, p)) {
          put(target.M, p, { [typeOf(element)]: typeOf(element) === 'L' ? [] : {} })
        }
        source = element
        target = target.M[p]
      }
    })
  }
  return clone(out.M)
}
