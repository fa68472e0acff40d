/**
 * @module The grammar of projection expressions: document paths, none overlapping another.
 */
import type { Path } from './ast.ts'
import type { Parser } from './parser.ts'

export function projection(p: Parser): Path[] {
  const paths: Path[] = []
  for (;;) {
    p.checkPath(paths, p.path().path)
    if (!p.is(',')) break
    p.next()
  }
  return paths
}

export function projectionError(p: Parser): string | undefined {
  return p.firstError(['reserved', 'pathDepth', 'attrName', 'pathOverlap', 'pathConflict'])
}
