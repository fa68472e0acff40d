// The size ceiling, measured as bench/size.ts does (esbuild, minified, browser/workerd conditions,
// gzip -9). Bytes, not time: the same sources always give the same figure. The ceiling is 12.5 KB
// (CEILING_BYTES, 12,800 bytes): what the library may add to a minimal Worker.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { addedToWorker, CEILING_BYTES } from '../../bench/size.ts'

test(`the middleware adds at most ${CEILING_BYTES} bytes gzipped to a minimal Worker`, async () => {
  const { hono, ours, added } = await addedToWorker()
  console.log(
    `size: the middleware adds ${added} bytes (${(added / 1024).toFixed(2)} KB) gzipped to a minimal Worker (${hono.gzip} -> ${ours.gzip}); ${CEILING_BYTES - added} bytes under the ${CEILING_BYTES}-byte ceiling`,
  )
  assert.equal(ours.errors, undefined, 'the Worker bundles')
  assert.ok(ours.contributions.aws4fetch > 0, 'the bundle holds the middleware and aws4fetch')
  assert.ok(
    added <= CEILING_BYTES,
    `the middleware adds ${added} bytes gzipped to a Worker, over the ${CEILING_BYTES}-byte ceiling`,
  )
})
