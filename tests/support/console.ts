// Captures what the middleware logs with console.error, so tests can read it (and keep it out of
// the test output).

/** One console.error call: its arguments, and their text (an Error's name, code and message). */
export interface Logged {
  args: unknown[]
  text: string
}

const textOf = (a: unknown): string =>
  a instanceof Error
    ? `${a.name}${'code' in a ? ` ${a.code}` : ''}: ${a.message}`
    : typeof a === 'string'
      ? a
      : String(a)

/**
 * Replaces console.error until `restore()`; `lines` holds every call made meanwhile. Restore it
 * in a `finally` (or with `using`-style try blocks) so a failing assertion does not leave it.
 */
export function captureConsoleError() {
  const original = console.error
  const lines: Logged[] = []
  console.error = (...args: unknown[]) => {
    lines.push({ args, text: args.map(textOf).join(' ') })
  }
  return {
    lines,
    /** Every line joined, for matching. */
    all: () => lines.map((l) => l.text).join('\n'),
    restore: () => {
      console.error = original
    },
  }
}

/** Runs `fn` with console.error captured, and returns its result with the lines. */
export async function withConsoleError<T>(
  fn: (lines: Logged[]) => T | Promise<T>,
): Promise<{ result: T; lines: Logged[]; all: string }> {
  const capture = captureConsoleError()
  try {
    const result = await fn(capture.lines)
    return { result, lines: capture.lines, all: capture.all() }
  } finally {
    capture.restore()
  }
}

/** The DynamoSessionError code of each captured line (an error's `code`, or a one-line 409's). */
export const codesOf = (lines: Logged[]): string[] =>
  lines.map((l) => {
    const [first] = l.args
    if (first instanceof Error && 'code' in first) return String(first.code)
    return /DynamoSessionError (\w+):/.exec(l.text)?.[1] ?? l.text
  })
