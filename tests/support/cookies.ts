// Cookies as tests handle them: the `sid=…` pair of a response, the stored key a cookie names, and
// a browser modelled as a cookie jar. Ids and signatures come from the library's own cookie code.
import type { Hono } from 'hono'
import { CookieSigner, newId, storedKey } from '../../src/cookie.ts'

export { CookieSigner, newId, storedKey }

/** The Set-Cookie headers of a response. */
export const setCookies = (res: Response): string[] => res.headers.getSetCookie()

/** `name=value` of the first Set-Cookie, ready for a Cookie header; throws when there is none. */
export function cookieOf(res: Response): string {
  const header = setCookies(res)[0]
  if (!header) throw new Error(`no Set-Cookie on a ${res.status} response`)
  return header.split(';')[0]
}

/** The `sid=...` pair of a response's first Set-Cookie, or undefined. */
export const cookieFrom = (res: Response): string | undefined => setCookies(res)[0]?.split(';')[0]

/** The session id a `sid=<id>.<signature>` cookie carries. */
export const idOf = (cookie: string): string =>
  decodeURIComponent(cookie.split('=')[1]).split('.')[0]

/** The stored key of the session a `sid=...` cookie names. */
export const keyOf = (cookie: string): Promise<string> => storedKey(idOf(cookie))

/** A `sid=` cookie signed with `secret` for `id` (a new random id by default). */
export async function signedCookie(secret: string, id: string = newId()): Promise<string> {
  return `sid=${await new CookieSigner([secret]).sign(id)}`
}

/**
 * A browser's cookie store for one site: Set-Cookie headers are applied in order, `Max-Age`
 * sets the expiry (by `Date.now()`, so a virtual clock applies), `Max-Age=0` deletes.
 */
export class CookieJar {
  readonly #cookies = new Map<string, { value: string; until: number }>()

  /** Applies a response's Set-Cookie headers, in order. */
  store(res: Response): void {
    for (const header of setCookies(res)) {
      const [pair, ...attributes] = header.split(';').map((p) => p.trim())
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      const maxAge = attributes.find((a) => /^max-age=/i.test(a))
      const seconds = maxAge ? Number(maxAge.split('=')[1]) : Number.POSITIVE_INFINITY
      if (seconds <= 0) this.#cookies.delete(name)
      else this.#cookies.set(name, { value, until: Date.now() + seconds * 1000 })
    }
  }

  /** The Cookie header the browser sends now, or undefined; expired cookies are dropped. */
  header(): string | undefined {
    for (const [name, c] of this.#cookies) if (c.until <= Date.now()) this.#cookies.delete(name)
    const pairs = [...this.#cookies].map(([name, c]) => `${name}=${c.value}`)
    return pairs.length ? pairs.join('; ') : undefined
  }

  /** Sends a request to `app` with the jar's cookies and stores the answer's cookies. */
  // biome-ignore lint/suspicious/noExplicitAny: any app's environment
  async send(app: Hono<any>, path: string, method = 'GET'): Promise<Response> {
    const cookie = this.header()
    const res = await app.request(path, { method, headers: cookie ? { cookie } : {} })
    this.store(res)
    return res
  }
}
