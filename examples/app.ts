/**
 * @module The demo app that every entry point serves (Node, Bun, Deno, Cloudflare Workers, AWS
 * Lambda): sign in, a small cart, flash messages, sign out, a page with the session's expiry, a
 * "Your devices" page (every session of the user, each one's sign-out, and sign out everywhere
 * else), and on every page a "Behind the scenes" panel with the DynamoDB calls of the request and
 * the stored item. Plain server-rendered HTML and POST forms with 303 redirects: it works without
 * JavaScript.
 */
import { zValidator } from '@hono/zod-validator'
import { Hono } from 'hono'
import { contextStorage } from 'hono/context-storage'
import { csrf } from 'hono/csrf'
import { html } from 'hono/html'
import { z } from 'zod'
import { type DynamoSessionOptions, dynamoSession, type SessionEnv } from '../src/index.ts'
import { behindTheScenes, type PanelEnv, recordingFetch } from './behind-the-scenes.ts'
import { devicesApp } from './devices.ts'

/** What the demo keeps in a session. */
export type DemoData = { user: string; cart: string[] }

/** The Hono environment of the demo app: the session, and the DynamoDB calls of the request. */
export type DemoEnv = SessionEnv<DemoData> & PanelEnv

/** The shop's whole catalogue. */
export const PRODUCTS: readonly string[] = ['Apple', 'Banana', 'Cherry', 'Dragon fruit']

const MAX_CART = 20

const loginForm = z.object({
  username: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{3,20}$/, 'Username: 3 to 20 letters, digits, - or _'),
  password: z.string().min(8, 'Password: at least 8 characters'),
})
const addForm = z.object({ item: z.enum(PRODUCTS as [string, ...string[]]) })
const removeForm = z.object({ index: z.coerce.number().int().min(0) })

type Html = ReturnType<typeof html>

function remaining(ms: number): string {
  const minutes = Math.round(ms / 60_000)
  return minutes < 120 ? `${minutes} minutes` : `${Math.round(minutes / 60)} hours`
}

function layout(title: string, body: Html, notice?: unknown): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · dynamo-session demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; color: #222 }
  header { display: flex; justify-content: space-between; align-items: baseline; border-bottom: 1px solid #ddd }
  header a { margin-left: 1rem }
  .notice { background: #e7f6e7; border: 1px solid #9c9; padding: .5rem 1rem; border-radius: 4px }
  .errors { background: #fdeaea; border: 1px solid #d99; padding: .5rem 1rem .5rem 2rem; border-radius: 4px }
  label { display: block; margin: .75rem 0 .25rem }
  input, select, button { font: inherit; padding: .25rem .5rem }
  ul.cart li { margin: .25rem 0 }
  form.inline { display: inline }
  table#devices { border-collapse: collapse; width: 100%; font-size: 14px }
  table#devices th, table#devices td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid #eee; vertical-align: top }
  table#devices td.device { word-break: break-word }
  table#devices tr.current { background: #eef4fd }
</style>
</head>
<body>
<header><h1>${title}</h1><nav><a href="/">Shop</a><a href="/devices">Devices</a><a href="/session">Session</a></nav></header>
${typeof notice === 'string' ? html`<p class="notice" role="status">${notice}</p>` : ''}
${body}
</body>
</html>`
}

function loginPage(errors: string[] = [], username = '', notice = ''): Html {
  return layout(
    'Sign in',
    html`${
      errors.length
        ? html`<ul class="errors" role="alert">${errors.map((e) => html`<li>${e}</li>`)}</ul>`
        : ''
    }
<form method="post" action="/login">
  <label for="username">Username</label>
  <input id="username" name="username" value="${username}" autocomplete="username" required>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <p><button type="submit">Sign in</button></p>
</form>
<p><small>This is a demo: any username of 3 to 20 letters, digits, - or _ and any password of 8 characters or more will do.</small></p>`,
    notice || undefined,
  )
}

function shopPage(user: string, cart: string[], notice: unknown): Html {
  return layout(
    'Shop',
    html`<p>Signed in as <strong>${user}</strong>.</p>
<h2>Cart (<span id="count">${cart.length}</span>)</h2>
${
  cart.length
    ? html`<ul class="cart">${cart.map(
        (item, index) => html`<li>${item}
<form class="inline" method="post" action="/cart/remove"><input type="hidden" name="index" value="${index}"><button type="submit">Remove</button></form></li>`,
      )}</ul>`
    : html`<p>Your cart is empty.</p>`
}
<form method="post" action="/cart/add">
  <label for="item">Add an item</label>
  <select id="item" name="item">${PRODUCTS.map((p) => html`<option>${p}</option>`)}</select>
  <button type="submit">Add to cart</button>
</form>
<form method="post" action="/logout"><p><button type="submit">Sign out</button></p></form>`,
    notice,
  )
}

/**
 * Builds the demo app. Options go to `dynamoSession()`; left out, table, region, endpoint,
 * credentials and secret come from the environment (Workers: the bindings).
 *
 * @example
 * ```ts
 * export default createApp({ table: 'demo-sessions' })
 * ```
 */
export function createApp(options?: DynamoSessionOptions<DemoData>): Hono<DemoEnv> {
  const app = new Hono<DemoEnv>()
  // The "Behind the scenes" panel: the calls are attributed to their request through the
  // context storage, and the panel is added once the session middleware has saved.
  app.use(contextStorage())
  app.use(behindTheScenes(options))
  // Form posts are accepted from this origin only: a login or cart form on another site fails.
  app.use(csrf())
  app.use(dynamoSession<DemoData>({ ...options, fetch: recordingFetch(options?.fetch) }))

  app.get('/', (c) => {
    const session = c.get('session')
    const user = session.get('user')
    if (!user) {
      return c.html(loginPage([], '', c.req.query('signed-out') === undefined ? '' : 'Signed out'))
    }
    return c.html(shopPage(user, session.get('cart') ?? [], session.takeFlash('notice')))
  })

  app.post(
    '/login',
    zValidator('form', loginForm, (result, c) => {
      if (!result.success) {
        const username = typeof result.data.username === 'string' ? result.data.username : ''
        return c.html(
          loginPage(
            result.error.issues.map((issue) => issue.message),
            username,
          ),
          422,
        )
      }
    }),
    (c) => {
      const session = c.get('session')
      const { username } = c.req.valid('form')
      // A new id at the moment of signing in: an id planted before login is worth nothing after.
      // Bound to the user, it is listed on the user's devices page, and can be signed out there.
      session.regenerate({ userId: username })
      if (session.get('user') !== username) session.delete('cart')
      session.set('user', username)
      session.flash('notice', 'Signed in')
      return c.redirect('/', 303)
    },
  )

  // The cart is for signed-in visitors; anyone else is sent to the sign-in form.
  app.post('/cart/*', async (c, next) => {
    if (!c.get('session').get('user')) return c.redirect('/', 303)
    await next()
  })

  app.post('/cart/add', zValidator('form', addForm), (c) => {
    const session = c.get('session')
    const cart = session.get('cart') ?? []
    if (cart.length >= MAX_CART) {
      session.flash('notice', `The cart holds at most ${MAX_CART} items`)
    } else {
      session.set('cart', [...cart, c.req.valid('form').item])
      session.flash('notice', 'Item added')
    }
    return c.redirect('/', 303)
  })

  app.post('/cart/remove', zValidator('form', removeForm), (c) => {
    const session = c.get('session')
    const cart = session.get('cart') ?? []
    const { index } = c.req.valid('form')
    if (index < cart.length) {
      session.set(
        'cart',
        cart.filter((_, i) => i !== index),
      )
      session.flash('notice', 'Item removed')
    }
    return c.redirect('/', 303)
  })

  app.post('/logout', (c) => {
    c.get('session').destroy()
    // A destroyed session keeps no flash, so the notice rides on the address instead.
    return c.redirect('/?signed-out', 303)
  })

  app.route('/devices', devicesApp(options, layout))

  app.get('/session', (c) => {
    const session = c.get('session')
    const expires = session.expiresAt
    const body = expires
      ? html`<p>This session expires at <time datetime="${expires.toISOString()}">${expires.toUTCString()}</time>,
in about ${remaining(expires.getTime() - Date.now())}.
Visits move it forward (the idle timeout), up to a hard limit counted from the session's start.</p>
<p>It holds: ${Object.keys(session.data).join(', ') || 'nothing'}.</p>`
      : html`<p id="no-session">No session is stored for this browser: one is written when there is something to keep, such as signing in.</p>`
    return c.html(layout('Session', body))
  })

  return app
}
