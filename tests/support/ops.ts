// A route that runs the session operations a test sends as JSON and answers what each gave, so a
// test can try many calls (hostile keys, numbers out of range) in one request.
import type { Context } from 'hono'
import { type Data, type Env, type TestApp, type TestAppOptions, testApp } from './app.ts'
import type { Conn } from './dynamodb.ts'

/** One step a handler runs on the session; `sparse` sets an array with a hole. */
export type Op =
  | { op: 'set' | 'flash'; key: string; value: unknown }
  | { op: 'get' | 'has' | 'delete' | 'takeFlash' | 'sparse' | 'regenerate'; key?: string }
  | { op: 'increment'; key: string; by?: number }

/** What one step gave: its result (with its type, so a function is told from a value) or its error. */
export type Outcome = { type: string; value?: unknown } | { error: string; message: string }

/** What `run()` answers: the response, and what the handler saw. */
export interface Run {
  res: Response
  status: number
  text: string
  outcomes: Outcome[]
  data: Data
  isNew: boolean
}

/** The test app with `POST /ops`, and `run(ops, cookie?)` to send them. */
export interface OpsApp extends TestApp {
  run(ops: Op[], cookie?: string): Promise<Run>
}

/** Runs one step on the request's session; what it returns, if anything. */
function apply(c: Context<Env>, o: Op): unknown {
  const s = c.get('session')
  const key = o.key as string
  if (o.op === 'set') s.set(key, o.value)
  else if (o.op === 'flash') s.flash(key, o.value as never)
  else if (o.op === 'get') return s.get(key)
  else if (o.op === 'has') return s.has(key)
  else if (o.op === 'delete') s.delete(key)
  else if (o.op === 'takeFlash') return s.takeFlash(key)
  else if (o.op === 'increment') s.increment(key, o.by)
  else if (o.op === 'regenerate') s.regenerate()
  // biome-ignore lint/suspicious/noSparseArray: the hole is the point
  else if (o.op === 'sparse') s.set(key, [1, , 3])
  return undefined
}

/** A test app whose `POST /ops` runs the steps it is sent and answers what each gave. */
export function opsApp(conn: Conn, options: TestAppOptions = {}): OpsApp {
  const a = testApp(conn, options)
  a.app.post('/ops', async (c) => {
    // c.req.json() is JSON.parse: a "__proto__" member is an own key, as a client can send it.
    const ops = await c.req.json<Op[]>()
    const outcomes: Outcome[] = []
    for (const o of ops) {
      try {
        const value = apply(c, o)
        outcomes.push({ type: typeof value, value })
      } catch (e) {
        outcomes.push({ error: (e as Error).name, message: (e as Error).message })
      }
    }
    const session = c.get('session')
    return c.json({ outcomes, data: session.data, isNew: session.isNew })
  })
  const run = async (ops: Op[], cookie?: string): Promise<Run> => {
    const res = await a.app.request('/ops', {
      method: 'POST',
      body: JSON.stringify(ops),
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    })
    const text = await res.text()
    const body = res.status === 200 ? JSON.parse(text) : undefined
    return {
      res,
      status: res.status,
      text,
      outcomes: body?.outcomes as Outcome[],
      data: body?.data as Data,
      isNew: body?.isNew as boolean,
    }
  }
  return { ...a, run }
}

/** JSON with every object's keys sorted: DynamoDB maps keep no order. */
export const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  )
