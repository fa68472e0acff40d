/**
 * @module The demo as a Cloudflare Worker (see wrangler.jsonc). The library reads its settings
 * from the Worker's bindings, not from `process.env`: SESSION_TABLE, AWS_REGION and, where
 * DynamoDB is not AWS's, AWS_ENDPOINT_URL_DYNAMODB as vars; AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and SESSION_SECRET as secrets (`wrangler secret put`).
 */
import { createApp } from '../app.ts'

export default createApp()
