/**
 * @module Reading and writing an item at a document path (`a.b[2].c`).
 */
import { BAD_PATH, invalid } from '../errors.ts'
import { type AttributeValue, type Item, own, put } from '../values.ts'
import type { Path } from './ast.ts'

export function resolve(item: Item | undefined, path: Path): AttributeValue | undefined {
  let v: AttributeValue | undefined = item ? { M: item } : undefined
  for (const p of path) {
    if (!v) return undefined
    if (typeof p === 'number') v = v.L ? v.L[p] : undefined
    else v = own(v.M, p)
  }
  return v
}

/** The container of the last step of a path, or undefined when the path cannot be set. */
export function parentOf(item: Item, path: Path): AttributeValue | undefined {
  return path.length === 1 ? { M: item } : resolve(item, path.slice(0, -1))
}

export function setPath(item: Item, path: Path, value: AttributeValue): void {
  const parent = parentOf(item, path)
  const last = path[path.length - 1]
  if (typeof last === 'number') {
    if (!parent?.L) throw invalid(BAD_PATH)
    if (last >= parent.L.length) parent.L.push(value)
    else parent.L[last] = value
  } else {
    if (!parent?.M) throw invalid(BAD_PATH)
    put(parent.M, last, value)
  }
}
