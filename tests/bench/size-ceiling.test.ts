// The size ceiling: the library may add at most 10.5 KB (10,752 bytes) gzipped to a minimal
// Worker, measured as bench/size.ts does (esbuild, minified, browser/workerd conditions, gzip -9).
// Bytes, not time: the same sources always give the same figure.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { addedToWorker, CEILING_BYTES } from '../../bench/size.ts'

test(`the middleware adds at most ${CEILING_BYTES} bytes gzipped to a minimal Worker`, async () => {
  const { hono, ours, added } = await addedToWorker()
  console.log(
    `size ceiling: the middleware adds ${added} bytes (${(added / 1024).toFixed(2)} KB) gzipped to a minimal Worker (${hono.gzip} -> ${ours.gzip}); ceiling ${CEILING_BYTES} bytes, ${CEILING_BYTES - added} to spare`,
  )
  assert.equal(ours.errors, undefined, 'the Worker bundles')
  assert.ok(ours.contributions.aws4fetch > 0, 'the bundle holds the middleware and aws4fetch')
  assert.ok(
    added <= CEILING_BYTES,
    `the middleware adds ${added} bytes gzipped to a Worker, over the ${CEILING_BYTES}-byte ceiling`,
  )
})
