/**
 * @module The session cookie: ids, HMAC signatures, the stored key (Web Crypto only), and the
 * Cookie and Set-Cookie header formats.
 */

const encoder = /* @__PURE__ */ new TextEncoder()

/** Base64url without padding. */
export function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i])
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** 32 random bytes (256 bits) encode to 43 base64url characters. */
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/

/** A new session id: 256 bits from `crypto.getRandomValues`, base64url. */
export function newId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)))
}

/** True when `id` has the exact shape of an id `newId` makes. */
export const isWellFormedId = (id: string): boolean => ID_PATTERN.test(id)

/** How many results of the crypto below are remembered; the oldest are forgotten first. */
const MEMO_SIZE = 1000

function remember<V>(memo: Map<string, V>, key: string, value: V): V {
  if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value as string)
  memo.set(key, value)
  return value
}

// Ids seen again (a browser sends its cookie on every request) skip the digest.
const storedKeys = new Map<string, string>()

/**
 * The item key stored for an id: SHA-256 of the id, base64url. A leaked table or backup holds
 * no cookie that could be replayed.
 */
export async function storedKey(id: string): Promise<string> {
  return (
    storedKeys.get(id) ??
    remember(
      storedKeys,
      id,
      base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(id)))),
    )
  )
}

const signed = async (id: string, key: CryptoKey): Promise<string> =>
  `${id}.${base64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(id))))}`

/** Signs and verifies cookie values with HMAC-SHA-256; the first secret signs, all verify. */
export class CookieSigner {
  readonly #keys: Promise<CryptoKey[]>
  /** Cookie values that verified, with their id: a browser sends the same one on every request. */
  readonly #verified = new Map<string, string>()

  constructor(secrets: readonly string[]) {
    this.#keys = Promise.all(
      secrets.map((secret) =>
        crypto.subtle.importKey(
          'raw',
          encoder.encode(secret),
          { name: 'HMAC', hash: 'SHA-256' },
          false,
          ['sign'],
        ),
      ),
    )
  }

  /** `id.signature` for a cookie, signed with the first secret. */
  async sign(id: string): Promise<string> {
    return signed(id, (await this.#keys)[0])
  }

  /**
   * The id of a signed cookie value, or null when its shape or signature is wrong. The whole
   * value is compared with what each secret signs, in constant time, so a signature is accepted
   * only in its one canonical encoding.
   */
  async verify(value: string): Promise<string | null> {
    const known = this.#verified.get(value)
    if (known) return known
    const id = value.slice(0, 43)
    if (value.length !== 87 || value[43] !== '.' || !isWellFormedId(id)) return null
    let match = false
    for (const key of await this.#keys) {
      const expected = await signed(id, key)
      let diff = 0
      for (let i = 0; i < 87; i++) diff |= value.charCodeAt(i) ^ expected.charCodeAt(i)
      match ||= diff === 0
    }
    return match ? remember(this.#verified, value, id) : null
  }
}

/** How many cookies of the session's name are tried: a parent domain's or path's may come first. */
const MAX_CANDIDATES = 4

/** The values of cookie `name` in a Cookie header, in order, at most four. */
export function readCookies(header: string | undefined, name: string): string[] {
  const values: string[] = []
  for (const pair of header?.split(';') ?? []) {
    const eq = pair.indexOf('=')
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue
    const value = pair.slice(eq + 1).trim()
    if (values.push(/^".+"$/.test(value) ? value.slice(1, -1) : value) >= MAX_CANDIDATES) break
  }
  return values
}

/** The attributes every Set-Cookie of the session carries. */
export interface CookieAttributes {
  name: string
  path: string
  domain: string | undefined
  secure: boolean
  httpOnly: boolean
  sameSite: 'Strict' | 'Lax' | 'None'
  partitioned: boolean
}

/** A Set-Cookie header value; `maxAge` 0 clears the cookie. */
export function serializeCookie(value: string, maxAge: number, a: CookieAttributes): string {
  let cookie = `${a.name}=${value}; Max-Age=${maxAge}; Path=${a.path}`
  if (maxAge <= 0) cookie += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT'
  if (a.domain) cookie += `; Domain=${a.domain}`
  if (a.secure) cookie += '; Secure'
  if (a.httpOnly) cookie += '; HttpOnly'
  cookie += `; SameSite=${a.sameSite}`
  if (a.partitioned) cookie += '; Partitioned'
  return cookie
}
