/**
 * @module Applies a parsed update expression to an item: every operand reads the item as it was
 * before the update, as DynamoDB does.
 */
import { BAD_OPERAND, BAD_PATH, invalid, MISSING_OPERAND } from '../errors.ts'
import { addNumbers, formatNumber, parseNumber } from '../numbers.ts'
import { type AttributeValue, clone, equal, type Item, sortSet, typeOf } from '../values.ts'
import type { Operand, Path, UpdateActions } from './ast.ts'
import { parentOf, resolve, setPath } from './document.ts'

/** The value of an update operand, read from the item before the update. */
function updateValue(item: Item | undefined, o: Operand): AttributeValue {
  switch (o.kind) {
    case 'value':
      return o.value
    case 'path': {
      const v = resolve(item, o.path)
      if (!v) throw invalid(MISSING_OPERAND)
      return v
    }
    case 'arith': {
      const a = updateValue(item, o.left)
      const b = updateValue(item, o.right)
      if (!('N' in a) || !('N' in b)) throw invalid(BAD_OPERAND)
      const sign = o.op === '+' ? 1n : -1n
      return { N: formatNumber(addNumbers(parseNumber(a.N), parseNumber(b.N), sign)) }
    }
    case 'call': {
      if (o.name === 'if_not_exists') {
        const v = resolve(item, (o.args[0] as { path: Path }).path)
        return v ?? updateValue(item, o.args[1])
      }
      const a = updateValue(item, o.args[0])
      const b = updateValue(item, o.args[1])
      if (!('L' in a) || !('L' in b)) throw invalid(BAD_OPERAND)
      return { L: [...a.L, ...b.L] }
    }
  }
}

export function applyUpdate(old: Item | undefined, key: Item, actions: UpdateActions): Item {
  const item: Item = clone(old) ?? clone(key)
  // Every operand reads the item as it was before this update.
  const values = actions.set.map((a) => updateValue(old, a.value))
  actions.set.forEach((a, i) => {
    setPath(item, a.path, clone(values[i]))
  })
  // List elements are removed by their index before the update: highest first.
  const removals = [...actions.remove].sort((a, b) => {
    const x = a[a.length - 1]
    const y = b[b.length - 1]
    return typeof x === 'number' && typeof y === 'number' ? y - x : 0
  })
  for (const path of removals) {
    const parent = parentOf(item, path)
    const last = path[path.length - 1]
    // The element need not exist, but the map or list holding it must.
    if (typeof last === 'number') {
      if (!parent?.L) throw invalid(BAD_PATH)
      if (last < parent.L.length) parent.L.splice(last, 1)
    } else {
      if (!parent?.M) throw invalid(BAD_PATH)
      delete parent.M[last]
    }
  }
  for (const { path, value } of actions.add) {
    const current = resolve(item, path)
    const type = typeOf(value)
    if (!current) {
      setPath(item, path, clone(value))
    } else if (type === 'N' && 'N' in current) {
      setPath(item, path, {
        N: formatNumber(addNumbers(parseNumber(current.N), parseNumber(value.N), 1n)),
      })
    } else if (type !== 'N' && type in current) {
      const members = [...current[type]]
      for (const m of value[type])
        if (!members.some((x) => equal({ [type[0]]: x }, { [type[0]]: m }))) members.push(m)
      const changed = members.length > current[type].length
      setPath(item, path, { [type]: changed ? sortSet(type, members, true) : members })
    } else {
      throw invalid(BAD_OPERAND)
    }
  }
  for (const { path, value } of actions.delete) {
    const current = resolve(item, path)
    const type = typeOf(value)
    if (!current) {
      // Nothing to delete from, but the path must still lead somewhere.
      const parent = parentOf(item, path)
      if (!parent || !(typeof path[path.length - 1] === 'number' ? parent.L : parent.M)) {
        throw invalid(BAD_PATH)
      }
      continue
    }
    if (!(type in current)) throw invalid(BAD_OPERAND)
    const members = current[type].filter(
      (x: string) => !value[type].some((m: string) => equal({ [type[0]]: x }, { [type[0]]: m })),
    )
    if (members.length) {
      const changed = members.length < current[type].length
      setPath(item, path, { [type]: changed ? sortSet(type, members, true) : members })
    } else {
      const parent = parentOf(item, path)
      const last = path[path.length - 1]
      if (typeof last === 'number') parent?.L?.splice(last, 1)
      else delete parent?.M?.[last]
    }
  }
  return item
}
