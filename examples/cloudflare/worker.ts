// Placeholder Cloudflare Worker entry (to be replaced by `export default app` from '../app.ts'
// once the library and the demo app exist).
import { Hono } from 'hono'
import { env } from 'hono/adapter'

type Bindings = {
  SESSION_TABLE: string
  AWS_REGION: string
  AWS_ENDPOINT_URL_DYNAMODB?: string
}

const app: Hono<{ Bindings: Bindings }> = new Hono()

app.get('/', (c) => c.json({ table: env<Bindings>(c).SESSION_TABLE ?? null }))

export default app
