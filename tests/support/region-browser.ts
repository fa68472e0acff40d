// The app and the browser of the several-regions tests. The browser it keeps its cookies (the session's, `sid`, and the
// region's, `sid-r`), honouring Set-Cookie and Max-Age=0, and says which region is near it
// (`x-near`, which the tests' `nearest(c)` reads).
import { Hono } from 'hono'
import {
  type DynamoSessionError,
  type DynamoSessionOptions,
  dynamoSession,
  type JsonCompatible,
  type SessionEnv,
} from '../../src/index.ts'

/** A browser on `app`: it keeps its cookies (the session's, `sid`, and the region's, `sid-r`). */
export function browserOf<Data extends JsonCompatible<Data>>(app: Hono<SessionEnv<Data>>) {
  return (header = '') => {
    const jar = new Map(
      header
        .split('; ')
        .filter(Boolean)
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    )
    const send = async (method: string, path: string, near: string) => {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
      const res = await app.request(path, { method, headers: { cookie, 'x-near': near } })
      for (const set of res.headers.getSetCookie()) {
        const [pair] = set.split(';')
        const name = pair.slice(0, pair.indexOf('='))
        if (/Max-Age=0/.test(set)) jar.delete(name)
        else jar.set(name, pair.slice(name.length + 1))
      }
      return res
    }
    return {
      send,
      get: async (near: string) => (await (await send('GET', '/', near)).json()) as Partial<Data>,
      /** The session cookie, `sid=…`, or '' when there is none. */
      get cookie() {
        return jar.has('sid') ? `sid=${jar.get('sid')}` : ''
      },
      /** The region cookie's value, or ''. */
      get region() {
        return jar.get('sid-r') ?? ''
      },
      /** Every cookie, as the Cookie header. */
      get header() {
        return [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
      },
    }
  }
}

/** What the several-regions apps store. */
export type RegionData = { n: number; note: string }

/**
 * The app of the several-regions tests, on `options` (its `table` a `globalTable()`): GET / shows
 * the data; POST /inc, /note/:note and /logout change it. Returns the errors `onError` was told.
 */
export function regionApp(options: DynamoSessionOptions<RegionData>) {
  const errors: DynamoSessionError[] = []
  const app = new Hono<SessionEnv<RegionData>>()
  app.use(
    dynamoSession<RegionData>({
      ...options,
      onError: (e) => {
        errors.push(e)
      },
    }),
  )
  app.get('/', (c) => c.json(c.get('session').data))
  app.post('/inc', (c) => {
    c.get('session').increment('n')
    return c.text('ok')
  })
  app.post('/note/:note', (c) => {
    c.get('session').set('note', c.req.param('note'))
    return c.text('ok')
  })
  app.post('/logout', (c) => {
    c.get('session').destroy()
    return c.text('bye')
  })
  return { app, errors }
}
