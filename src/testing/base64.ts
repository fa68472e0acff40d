/**
 * @module Binary values as DynamoDB Local reads them: base64 decoded by Jackson's rules (padding
 * required; characters up to U+0020 skipped before each group of four; a padded group may be
 * followed by more), stored and returned in canonical form. Invalid base64 fails the whole
 * request with a 500, before any other check.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const PAD = 61 // '='
const VALUES = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i

const digit = (text: string, i: number): number => {
  const c = text.charCodeAt(i)
  return c < 128 ? VALUES[c] : -1
}

/** The bytes of a base64 text, or undefined where DynamoDB Local refuses it. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const out: number[] = []
  let i = 0
  for (;;) {
    while (i < text.length && text.charCodeAt(i) <= 32) i++
    if (i >= text.length) return Uint8Array.from(out)
    if (i + 4 > text.length) return undefined
    const [a, b, c, d] = [
      digit(text, i),
      digit(text, i + 1),
      digit(text, i + 2),
      digit(text, i + 3),
    ]
    const pad3 = text.charCodeAt(i + 2) === PAD
    const pad4 = text.charCodeAt(i + 3) === PAD
    i += 4
    if (a < 0 || b < 0 || (c < 0 && !pad3) || (d < 0 && !pad4) || (pad3 && !pad4)) return undefined
    out.push((a << 2) | (b >> 4))
    if (pad3) continue
    out.push(((b & 15) << 4) | (c >> 2))
    if (!pad4) out.push(((c & 3) << 6) | d)
  }
}

/** The canonical base64 text of some bytes. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

/** Whether a request body holds a `B` or `BS` value that is not valid base64. */
export function hasInvalidBinary(json: unknown): boolean {
  if (!json || typeof json !== 'object') return false
  for (const [key, value] of Object.entries(json)) {
    if (key === 'B' && typeof value === 'string' && !decodeBase64(value)) return true
    if (key === 'BS' && Array.isArray(value)) {
      if (value.some((b) => typeof b === 'string' && !decodeBase64(b))) return true
    } else if (hasInvalidBinary(value)) return true
  }
  return false
}
