/**
 * @module The demo's "Your devices" page: every session of the signed-in user
 * (`listSessions()`), with its device and times, the current one marked by its handle; a
 * "Sign out" button per device (`revokeSession()`) and "Sign out everywhere else"
 * (`revokeSessions()`). The user tools get the session middleware's connection, and the
 * recording fetch, so their DynamoDB calls show in the "Behind the scenes" panel too.
 */
import { zValidator } from '@hono/zod-validator'
import { type Context, Hono } from 'hono'
import { env } from 'hono/adapter'
import { html } from 'hono/html'
import { z } from 'zod'
import {
  type DynamoSessionOptions,
  listSessions,
  revokeSession,
  revokeSessions,
  type SessionInfo,
} from '../src/index.ts'
import type { DemoData, DemoEnv } from './app.ts'
import { recordingFetch } from './behind-the-scenes.ts'

type Html = ReturnType<typeof html>

/** The demo's page layout: title, body, and an optional notice. */
export type Layout = (title: string, body: Html, notice?: unknown) => Html

const handleForm = z.object({ handle: z.string().min(1).max(256) })

/** The connection the session middleware uses, for the user tools (static credentials). */
async function connection(c: Context<DemoEnv>, options: DynamoSessionOptions<DemoData> = {}) {
  const { table, region, endpoint, credentials } = options
  return {
    table,
    region,
    endpoint,
    credentials: typeof credentials === 'function' ? await credentials(c) : credentials,
    fetch: recordingFetch(options.fetch),
    // The Workers bindings, or the process's variables: what the middleware reads too.
    env: env(c) as Record<string, string | undefined>,
  }
}

const when = (ms: number) => {
  const date = new Date(ms)
  return html`<time datetime="${date.toISOString()}">${date.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>`
}

const deviceOf = (s: SessionInfo) =>
  s.device === undefined
    ? 'an unknown browser'
    : typeof s.device === 'string'
      ? s.device
      : JSON.stringify(s.device)

function devicesTable(sessions: SessionInfo[], current: string): Html {
  const rows = sessions.map(
    (s) => html`<tr data-handle="${s.handle}"${s.handle === current ? html` class="current"` : ''}>
<td class="device">${deviceOf(s)}</td><td>${when(s.created)}</td><td>${when(s.expires)}</td>
<td>${
      s.handle === current
        ? html`<strong>This device</strong>`
        : html`<form class="inline" method="post" action="/devices/sign-out"><input type="hidden" name="handle" value="${s.handle}"><button type="submit">Sign out</button></form>`
    }</td></tr>`,
  )
  return html`<table id="devices">
<thead><tr><th>Device</th><th>Started</th><th>Expires</th><th></th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}

/**
 * The "Your devices" routes, to mount at `/devices`.
 * @param options the session middleware's options, for its connection
 * @param layout the demo's page layout
 */
export function devicesApp(
  options: DynamoSessionOptions<DemoData> | undefined,
  layout: Layout,
): Hono<DemoEnv> {
  const devices = new Hono<DemoEnv>()

  // Only a signed-in user has devices; anyone else is sent to the sign-in form.
  devices.use(async (c, next) => {
    if (!c.get('session').userId) return c.redirect('/', 303)
    await next()
  })

  devices.get('/', async (c) => {
    const session = c.get('session')
    const userId = session.userId as string
    const sessions = await listSessions({ ...(await connection(c, options)), userId })
    const body = html`<p>Every browser signed in as <strong>${userId}</strong>, newest first.
Signing one out takes effect at its next request; it can sign in again at once.</p>
${devicesTable(sessions, session.handle)}
<form method="post" action="/devices/sign-out-others"><p><button type="submit">Sign out everywhere else</button></p></form>
<p><small>A browser that signed in a moment ago may take a second to show here: the list is read from an index DynamoDB updates just after the write.</small></p>`
    return c.html(layout('Your devices', body, session.takeFlash('notice')))
  })

  devices.post('/sign-out', zValidator('form', handleForm), async (c) => {
    const session = c.get('session')
    const { handle } = c.req.valid('form')
    if (handle === session.handle) {
      session.destroy()
      return c.redirect('/?signed-out', 303)
    }
    const userId = session.userId as string
    const done = await revokeSession({ ...(await connection(c, options)), userId, handle })
    session.flash('notice', done ? 'Signed out that device' : 'That device was already signed out')
    return c.redirect('/devices', 303)
  })

  devices.post('/sign-out-others', async (c) => {
    const session = c.get('session')
    const { revoked } = await revokeSessions({
      ...(await connection(c, options)),
      userId: session.userId as string,
      except: session.handle,
    })
    session.flash('notice', `Signed out ${revoked} other device${revoked === 1 ? '' : 's'}`)
    return c.redirect('/devices', 303)
  })

  return devices
}
