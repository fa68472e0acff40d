/// <reference types="bun-types" />
/**
 * @module The demo on Bun: `bun examples/bun.ts`. Configuration from the environment:
 * SESSION_TABLE, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_ENDPOINT_URL_DYNAMODB, SESSION_SECRET; PORT (default 3000; 0 picks a free one) and HOST
 * (default 127.0.0.1).
 */
import { createApp } from './app.ts'

const app = createApp()
const server = Bun.serve({
  port: Number(Bun.env.PORT ?? 3000),
  hostname: Bun.env.HOST ?? '127.0.0.1',
  fetch: app.fetch,
})
console.log(`Demo listening on ${server.url.origin}`)
