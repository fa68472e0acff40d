// The size ceiling, measured as bench/size.ts does (esbuild, minified, browser/workerd conditions,
// gzip -9). Bytes, not time: the same sources always give the same figure. The ceiling is 12.5 KB
// (CEILING_BYTES, 12,800 bytes): what the library may add to a minimal Worker. This release is
// over it; the test holds the figure it has (HELD_BYTES) so that it cannot grow unnoticed, and
// prints how far it is from the ceiling.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { addedToWorker, CEILING_BYTES, HELD_BYTES } from '../../bench/size.ts'

test(`the middleware adds at most ${HELD_BYTES} bytes gzipped to a minimal Worker (held; the ceiling is ${CEILING_BYTES})`, async () => {
  const { hono, ours, added } = await addedToWorker()
  const gap = added - CEILING_BYTES
  console.log(
    `size: the middleware adds ${added} bytes (${(added / 1024).toFixed(2)} KB) gzipped to a minimal Worker (${hono.gzip} -> ${ours.gzip}); ${gap > 0 ? `${gap} bytes over` : `${-gap} bytes under`} the ${CEILING_BYTES}-byte ceiling, held at ${HELD_BYTES}`,
  )
  assert.equal(ours.errors, undefined, 'the Worker bundles')
  assert.ok(ours.contributions.aws4fetch > 0, 'the bundle holds the middleware and aws4fetch')
  assert.ok(
    added <= HELD_BYTES,
    `the middleware adds ${added} bytes gzipped to a Worker, over the ${HELD_BYTES} bytes held (ceiling ${CEILING_BYTES})`,
  )
})
