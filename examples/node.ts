/**
 * @module The demo on Node: `node --import tsx examples/node.ts` (or `npm start`, which also
 * starts DynamoDB Local). Configuration from the environment: SESSION_TABLE, AWS_REGION,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_DYNAMODB, SESSION_SECRET; PORT
 * (default 3000; 0 picks a free one) and HOST (default 127.0.0.1).
 */
import { serve } from '@hono/node-server'
import { createApp } from './app.ts'

const app = createApp()
const hostname = process.env.HOST ?? '127.0.0.1'
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname }, ({ port }) => {
  console.log(`Demo listening on http://${hostname}:${port}`)
})
