/**
 * @module DynamoDB's numbers: decimals of up to 38 digits, magnitude 1e-130 to 1e126, held
 * exactly (a bigint significand and a power of ten) so arithmetic never rounds.
 */
import { invalid } from './errors.ts'

/** `m × 10^e`, with no trailing zeros in `m`. */
export interface Decimal {
  m: bigint
  e: number
}

export function parseNumber(text: unknown): Decimal {
  const s = typeof text === 'number' ? String(text) : text
  const match =
    typeof s === 'string' ? /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s) : null
  if (!match || (match[2] === '' && !match[3])) {
    throw invalid('A value provided cannot be converted into a number')
  }
  const fraction = match[3] ?? ''
  let m = BigInt(`${match[2]}${fraction}` || '0')
  let e = Number(match[4] ?? 0) - fraction.length
  if (match[1] === '-') m = -m
  while (m !== 0n && m % 10n === 0n) {
    m /= 10n
    e++
  }
  return checkNumber({ m: m === 0n ? 0n : m, e: m === 0n ? 0 : e })
}

function checkNumber(d: Decimal): Decimal {
  if (d.m === 0n) return d
  const digits = (d.m < 0n ? -d.m : d.m).toString().length
  const magnitude = digits - 1 + d.e
  if (magnitude >= 126) {
    throw invalid(
      'Number overflow. Attempting to store a number with magnitude larger than supported range',
    )
  }
  if (magnitude < -130) {
    throw invalid(
      'Number underflow. Attempting to store a number with magnitude smaller than supported range',
    )
  }
  if (digits > 38) throw invalid('DynamoDB only supports precision up to 38 digits')
  return d
}

export function formatNumber({ m, e }: Decimal): string {
  const sign = m < 0n ? '-' : ''
  const digits = (m < 0n ? -m : m).toString()
  if (e >= 0) return sign + digits + '0'.repeat(m === 0n ? 0 : e)
  const padded = digits.padStart(-e + 1, '0')
  return `${sign}${padded.slice(0, padded.length + e)}.${padded.slice(padded.length + e)}`
}

export const normalizeNumber = (text: unknown): string => formatNumber(parseNumber(text))

export function addNumbers(a: Decimal, b: Decimal, sign: 1n | -1n): Decimal {
  const e = Math.min(a.e, b.e)
  let m = a.m * 10n ** BigInt(a.e - e) + sign * b.m * 10n ** BigInt(b.e - e)
  let x = e
  while (m !== 0n && m % 10n === 0n) {
    m /= 10n
    x++
  }
  return checkNumber({ m, e: m === 0n ? 0 : x })
}

export function compareNumbers(a: Decimal, b: Decimal): number {
  const d = addNumbers(a, b, -1n).m
  return d < 0n ? -1 : d > 0n ? 1 : 0
}
