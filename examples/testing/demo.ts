/**
 * @module What the three example tests share: the demo app (examples/app.ts) on an in-memory
 * DynamoDB, and a tiny browser that keeps the session cookie. No Java, no network.
 */

import { createSessionTable } from '../../src/index.ts'
import { memoryDynamoDB } from '../../src/testing/index.ts'
import { createApp } from '../app.ts'

/** The demo app on a fresh in-memory DynamoDB, and a client that keeps its cookie. */
export async function demo() {
  const db = memoryDynamoDB()
  // Any region, endpoint and credentials: nothing leaves the process.
  const conn = {
    table: 'sessions',
    region: 'local',
    endpoint: 'http://dynamodb.local',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    fetch: db.fetch,
  }
  await createSessionTable(conn)
  const app = createApp({ ...conn, secret: 'a-test-secret-of-at-least-32-characters' })

  // The browser's cookies by name; `Max-Age=0` deletes one.
  const jar = new Map<string, string>()
  async function request(path: string, form?: Record<string, string>) {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
    const res = await app.request(`http://localhost${path}`, {
      method: form ? 'POST' : 'GET',
      // The demo accepts form posts from its own origin only (hono/csrf).
      headers: form ? { cookie, origin: 'http://localhost' } : { cookie },
      body: form ? new URLSearchParams(form) : undefined,
    })
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';')
      const eq = pair.indexOf('=')
      if (/;\s*Max-Age=0/i.test(set)) jar.delete(pair.slice(0, eq))
      else jar.set(pair.slice(0, eq), pair.slice(eq + 1))
    }
    return res
  }
  /** Follows the demo's 303 redirects to the page they point at. */
  async function post(path: string, form: Record<string, string>) {
    const res = await request(path, form)
    return res.status === 303 ? request(res.headers.get('location') ?? '/') : res
  }
  return { db, get: (path: string) => request(path), post }
}
