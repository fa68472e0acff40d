// The demo app in a real browser (headless Chromium): the sign-in form's errors, signing in, the
// cart across a reload, a second browser that shares nothing, and signing out; on each page the
// "Behind the scenes" panel (the request's DynamoDB calls, the stored item, the expiry timeline).
// Then "Your devices": one user signed in from two browser contexts, one signing the other out.
// A screenshot of each step goes to tests/screenshots/ (git-ignored).
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { serve } from '@hono/node-server'
import type { Browser, Page } from 'playwright-core'
import { createApp } from '../../examples/app.ts'
import { launchBrowser } from '../infra/browser.ts'
import { freshTable, SECRET, scanAll } from '../support/dynamodb.ts'

const SHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url))

describe('the demo in Chromium', () => {
  let browser: Browser
  let server: ReturnType<typeof serve>
  let url: string
  let table: string

  before(async () => {
    const conn = await freshTable('browser')
    table = conn.table
    const app = createApp({ ...conn, secret: SECRET })
    server = await new Promise((done) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => done(s))
    })
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    await mkdir(SHOTS, { recursive: true })
    browser = await launchBrowser()
  })

  after(async () => {
    await browser?.close()
    await new Promise((done) => server?.close(done))
  })

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: `${SHOTS}demo-${name}.png`, fullPage: true })
  /** The panel's calls, as `operation units` strings, for this request or the one before. */
  const calls = async (page: Page, which: 'this-request' | 'previous-request' = 'this-request') =>
    (await page.locator(`#behind-the-scenes .${which} tbody tr`).all()).map(async (row) => {
      const op = (await row.locator('td.op').textContent())?.trim()
      const units = (await row.locator('td.units').textContent())?.trim()
      assert.match(units ?? '', /^\d+(\.\d+)?$/, `${op}: capacity units as DynamoDB reports them`)
      assert.match((await row.locator('td.ms').textContent()) ?? '', /^\d+(\.\d)? ms$/)
      return op
    })
  const ops = async (page: Page, which?: 'this-request' | 'previous-request') =>
    Promise.all(await calls(page, which))
  const attribute = (page: Page, name: string) =>
    page.locator(`#behind-the-scenes tr[data-attribute="${name}"] td.value`).textContent()
  const cartItems = async (page: Page) =>
    (await page.locator('ul.cart li').allTextContents()).map((text) =>
      text.replace(/Remove$/, '').trim(),
    )

  test('sign in, fill the cart, reload, compare with a second browser, sign out', async () => {
    const context = await browser.newContext()
    // A step that cannot happen should fail the test quickly, not after 30 s.
    context.setDefaultTimeout(10_000)
    const page = await context.newPage()

    // Bad input: the form comes back with the messages.
    await page.goto(url)
    await page.fill('#username', 'x')
    await page.fill('#password', 'short')
    const refused = await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ])
    assert.equal(refused[0]?.status(), 422)
    assert.deepEqual(await page.locator('.errors li').allTextContents(), [
      'Username: 3 to 20 letters, digits, - or _',
      'Password: at least 8 characters',
    ])
    assert.equal(await page.inputValue('#username'), 'x')
    await shot(page, '1-sign-in-error')

    await page.fill('#username', 'alice')
    await page.fill('#password', 'password123')
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ])
    assert.equal(await page.locator('.notice').textContent(), 'Signed in')
    assert.equal(await page.locator('p:has-text("Signed in as") strong').textContent(), 'alice')
    const [cookie] = await context.cookies()
    assert.equal(cookie?.name, 'sid')
    assert.equal(cookie.httpOnly, true)
    assert.equal(cookie.secure, true)
    assert.equal(cookie.sameSite, 'Lax')
    // Behind the scenes: the sign-in post wrote the new session; this page read it.
    const panel = page.locator('#behind-the-scenes')
    assert.equal(await panel.locator('h2').textContent(), 'Behind the scenes')
    assert.match(
      (await panel.locator('h3').nth(1).textContent()) ?? '',
      /request before it \(POST \/login, answered 303\)/,
    )
    assert.ok((await ops(page, 'previous-request')).includes('PutItem'))
    assert.equal((await ops(page))[0], 'GetItem')
    const hashed = createHash('sha256').update(cookie.value.split('.')[0]).digest('base64url')
    assert.equal(await attribute(page, 'id'), hashed, 'the item is stored under the hashed id')
    assert.match((await attribute(page, 'expires')) ?? '', /^\d{10} \(\d{4}-/)
    assert.match((await attribute(page, 'created')) ?? '', /^\d{10} \(\d{4}-/)
    assert.equal(await panel.locator('figure.timeline svg').count(), 1)
    assert.match(
      (await panel.locator('figcaption .expires').textContent()) ?? '',
      /expires in 24 h unless used again/,
    )
    await shot(page, '2-signed-in')

    for (const item of ['Apple', 'Cherry']) {
      await page.selectOption('#item', item)
      await Promise.all([
        page.waitForNavigation(),
        page.getByRole('button', { name: 'Add to cart' }).click(),
      ])
      assert.equal(await page.locator('.notice').textContent(), 'Item added')
    }
    assert.equal(await page.locator('#count').textContent(), '2')
    assert.deepEqual(await cartItems(page), ['Apple', 'Cherry'])
    assert.match(
      (await page.locator('#behind-the-scenes .previous-request').textContent()) ?? '',
      /UpdateItem/,
      'adding an item is one UpdateItem',
    )
    const item = JSON.parse((await page.locator('#behind-the-scenes pre.json').textContent()) ?? '')
    assert.deepEqual(item.data.M.cart, { L: [{ S: 'Apple' }, { S: 'Cherry' }] })
    await page.locator('#behind-the-scenes').screenshot({ path: `${SHOTS}demo-panel.png` })
    await shot(page, '3-two-items')

    await page.reload()
    assert.deepEqual(await cartItems(page), ['Apple', 'Cherry'])
    assert.equal(await page.locator('.notice').count(), 0, 'the flash message was shown once')
    await shot(page, '4-reloaded')

    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('link', { name: 'Session' }).click(),
    ])
    assert.match((await page.locator('body').textContent()) ?? '', /This session expires at/)
    assert.deepEqual(await ops(page), ['GetItem'], 'a page view costs one GetItem')
    await shot(page, '5-session-expiry')

    // Another browser profile: its own (empty) session, nothing of alice's.
    const other = await browser.newContext()
    const otherPage = await other.newPage()
    await otherPage.goto(url)
    assert.equal(await otherPage.locator('#count').count(), 0)
    assert.equal(await otherPage.locator('#username').count(), 1)
    assert.deepEqual(await other.cookies(), [])
    assert.match(
      (await otherPage.locator('#behind-the-scenes .this-request').textContent()) ?? '',
      /No DynamoDB call/,
    )
    await shot(otherPage, '6-second-browser')
    await other.close()

    await page.goto(url)
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ])
    assert.equal(await page.locator('.notice').textContent(), 'Signed out')
    assert.equal(await page.locator('#count').count(), 0)
    assert.deepEqual(await context.cookies(), [], 'the session cookie is cleared')
    assert.deepEqual(
      (await scanAll(table)).filter((stored) => stored.data),
      [],
      'no session data is left in the table',
    )
    assert.match(
      (await page.locator('#behind-the-scenes h3').nth(1).textContent()) ?? '',
      /POST \/logout, answered 303/,
    )
    await shot(page, '7-signed-out')
    await context.close()
  })

  test('your devices: signed in from two browsers, one signs the other out', async () => {
    const signIn = async (page: Page) => {
      await page.goto(url)
      await page.fill('#username', 'carol')
      await page.fill('#password', 'password123')
      await Promise.all([
        page.waitForNavigation(),
        page.getByRole('button', { name: 'Sign in' }).click(),
      ])
      assert.equal(await page.locator('p:has-text("Signed in as") strong').textContent(), 'carol')
    }
    const laptop = await browser.newContext({ userAgent: 'Firefox on the laptop' })
    const phone = await browser.newContext({ userAgent: 'Safari on the phone' })
    for (const context of [laptop, phone]) context.setDefaultTimeout(10_000)
    const onLaptop = await laptop.newPage()
    const onPhone = await phone.newPage()
    await signIn(onLaptop)
    await signIn(onPhone)

    await Promise.all([
      onPhone.waitForNavigation(),
      onPhone.getByRole('link', { name: 'Devices' }).click(),
    ])
    const rows = onPhone.locator('#devices tbody tr')
    assert.equal(await rows.count(), 2)
    assert.deepEqual((await onPhone.locator('#devices td.device').allTextContents()).sort(), [
      'Firefox on the laptop',
      'Safari on the phone',
    ])
    const current = onPhone.locator('#devices tr.current')
    assert.equal(await current.locator('td.device').textContent(), 'Safari on the phone')
    assert.equal(await current.locator('strong').textContent(), 'This device')
    assert.ok((await ops(onPhone)).includes('Query'), 'the list is one Query of the user index')
    await shot(onPhone, '8-devices')

    const other = onPhone.locator('#devices tr:not(.current)')
    await Promise.all([
      onPhone.waitForNavigation(),
      other.getByRole('button', { name: 'Sign out' }).click(),
    ])
    assert.equal(await onPhone.locator('.notice').textContent(), 'Signed out that device')
    assert.deepEqual(await onPhone.locator('#devices td.device').allTextContents(), [
      'Safari on the phone',
    ])
    await shot(onPhone, '9-device-signed-out')

    // The laptop is signed out at its next request, and can sign in again at once.
    await onLaptop.reload()
    assert.equal(await onLaptop.locator('#username').count(), 1, 'the laptop sees the sign-in form')
    await shot(onLaptop, '10-laptop-signed-out')
    await signIn(onLaptop)

    await onPhone.reload()
    await Promise.all([
      onPhone.waitForNavigation(),
      onPhone.getByRole('button', { name: 'Sign out everywhere else' }).click(),
    ])
    assert.equal(await onPhone.locator('.notice').textContent(), 'Signed out 1 other device')
    assert.equal(await onPhone.locator('#devices tbody tr').count(), 1)
    await shot(onPhone, '11-signed-out-everywhere-else')
    await onLaptop.reload()
    assert.equal(await onLaptop.locator('#username').count(), 1)
    await laptop.close()
    await phone.close()
  })
})
