// The smallest Worker: Hono and one route. Every other Worker is measured against it.
import { Hono } from 'hono'

const app = new Hono()
app.get('/', (c) => c.text('hello'))

export default app
