// The test app talking to the suite's DynamoDB through the fault proxy (tests/infra/fault-proxy.ts),
// for tests that inject faults on the wire; the proxy is closed whatever the test does.
import { type FaultProxy, startFaultProxy } from '../infra/fault-proxy.ts'
import { type TestApp, type TestAppOptions, testApp } from './app.ts'
import { testEndpoint } from './backend.ts'
import { cookieFrom } from './cookies.ts'
import type { Conn } from './dynamodb.ts'

/** What a test behind the proxy gets: the app, the proxy, and a stored session's cookie. */
export interface Proxied {
  a: TestApp
  proxy: FaultProxy
  /** A session stored (user=ada) before the test began; the calls it made are forgotten. */
  cookie: string
}

/** Runs `body` with a test app on `conn` whose DynamoDB calls go through a fault proxy. */
export async function behindFaultProxy(
  conn: Conn,
  options: TestAppOptions,
  body: (t: Proxied) => Promise<void>,
): Promise<void> {
  const proxy = await startFaultProxy(testEndpoint())
  try {
    const a = testApp({ ...conn, endpoint: proxy.endpoint }, options)
    const cookie = cookieFrom(await a.post('/set/user/ada'))
    if (!cookie) throw new Error('the session before the test was not stored')
    a.reset()
    proxy.calls.length = 0
    await body({ a, proxy, cookie })
  } finally {
    await proxy.close()
  }
}
