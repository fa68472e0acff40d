// A small HTTP client for the demo app (examples/app.ts) that behaves like a browser where it
// matters to sessions: a cookie jar shared by every server it talks to, the Origin header on form
// posts (the demo checks it), and 303 redirects followed by hand so each hop's Set-Cookie counts.
// Also reads the demo's pages: the cart, the notice and the validation errors.

/** How the client reaches a server: global fetch for real HTTP, or app.request / Miniflare. */
export type Transport = (url: string, init: RequestInit) => Promise<Response>

/** One page as the client ended on it, after redirects. */
export interface Page {
  status: number
  /** The path of the last hop. */
  path: string
  body: string
  /** Every Set-Cookie header seen on the way. */
  setCookies: string[]
}

export class DemoClient {
  /** Cookie name → value; shared across servers, as one browser visiting one site would. */
  readonly jar: Map<string, string> = new Map()

  /** The server's origin, e.g. `http://127.0.0.1:3000`; change it to walk to another server. */
  base: string
  readonly #transport: Transport

  constructor(base: string, transport: Transport = (url, init) => fetch(url, init)) {
    this.base = base
    this.#transport = transport
  }

  get cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  get(path: string): Promise<Page> {
    return this.send(path, { method: 'GET' })
  }

  post(path: string, form: Record<string, string>): Promise<Page> {
    return this.send(path, {
      method: 'POST',
      body: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
  }

  private async send(path: string, init: RequestInit): Promise<Page> {
    const setCookies: string[] = []
    let current = path
    let request = init
    for (let hop = 0; hop < 5; hop++) {
      const origin = new URL(this.base).origin
      const headers = new Headers(request.headers)
      headers.set('origin', origin)
      const cookie = this.cookieHeader
      if (cookie) headers.set('cookie', cookie)
      const res = await this.#transport(new URL(current, this.base).href, {
        ...request,
        headers,
        redirect: 'manual',
      })
      for (const header of res.headers.getSetCookie()) {
        setCookies.push(header)
        this.store(header)
      }
      const location = res.headers.get('location')
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel()
        current = location
        request = { method: 'GET' }
        continue
      }
      return { status: res.status, path: current, body: await res.text(), setCookies }
    }
    throw new Error(`more than 5 redirects from ${path}`)
  }

  private store(header: string): void {
    const [pair, ...attributes] = header.split(';')
    const eq = pair.indexOf('=')
    const name = pair.slice(0, eq).trim()
    const value = pair.slice(eq + 1).trim()
    const maxAge = attributes.find((a) => /^\s*max-age=/i.test(a))
    if (value === '' || (maxAge && Number(maxAge.split('=')[1]) <= 0)) this.jar.delete(name)
    else this.jar.set(name, value)
  }
}

const decode = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')

/** The items in the cart on the shop page, in order; undefined when the page has no cart. */
export function cartOf(body: string): string[] | undefined {
  const count = /<span id="count">(\d+)<\/span>/.exec(body)
  if (!count) return undefined
  const list = /<ul class="cart">([\s\S]*?)<\/ul>/.exec(body)?.[1] ?? ''
  const items = [...list.matchAll(/<li>([^<]*)/g)].map((m) => decode(m[1].trim()))
  if (items.length !== Number(count[1])) {
    throw new Error(`the cart count says ${count[1]} but ${items.length} items are listed`)
  }
  return items
}

/** The notice (flash message) on a page, if any. */
export function noticeOf(body: string): string | undefined {
  const match = /<p class="notice" role="status">([^<]*)<\/p>/.exec(body)
  return match ? decode(match[1]) : undefined
}

/** The validation messages on the sign-in form. */
export function errorsOf(body: string): string[] {
  const list = /<ul class="errors" role="alert">([\s\S]*?)<\/ul>/.exec(body)?.[1] ?? ''
  return [...list.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => decode(m[1]))
}

/** The signed-in user named on the shop page, if any. */
export function userOf(body: string): string | undefined {
  const match = /Signed in as <strong>([^<]*)<\/strong>/.exec(body)
  return match ? decode(match[1]) : undefined
}
