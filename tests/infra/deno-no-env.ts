// Run by tests/suite/onerror.test.ts under `deno run` without --allow-env:
//   deno run --no-prompt --allow-net=127.0.0.1 tests/infra/deno-no-env.ts <env|options> '<options JSON>'
// `env` leaves the secret to the environment (which Deno refuses to read); `options` gives every
// option, so the environment is never read. Prints { status, body, logged } as JSON.
import { Hono } from 'hono'
import { dynamoSession, type SessionEnv } from '../../src/index.ts'

const [mode, json] = process.argv.slice(2)
const { secret, ...connection } = JSON.parse(json)
const logged: string[] = []
console.error = (...args: unknown[]) => {
  logged.push(
    args
      .map((a) =>
        a instanceof Error ? `${a.name} ${(a as { code?: string }).code}: ${a.message}` : String(a),
      )
      .join(' '),
  )
}
const app = new Hono<SessionEnv<{ n: number }>>()
app.use(dynamoSession<{ n: number }>(mode === 'options' ? { ...connection, secret } : connection))
app.get('/', (c) => {
  c.get('session').set('n', 1)
  return c.text('stored')
})
const res = await app.request('/')
console.log(
  JSON.stringify({ status: res.status, body: await res.text(), logged: logged.join('\n') }),
)
