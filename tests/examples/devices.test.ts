// The demo's "Your devices" page (examples/devices.ts) through app.request against DynamoDB
// Local: every browser of the signed-in user with its device, the current one marked; signing
// out one device, and every other; the page is for signed-in users only.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createApp } from '../../examples/app.ts'
import { DemoClient, noticeOf, userOf } from '../support/demo-client.ts'
import { freshTable, SECRET } from '../support/dynamodb.ts'

const ORIGIN = 'http://localhost'

/** The rows of the devices table: handle, device, and whether it is the current one. */
function devicesOf(body: string) {
  return [
    ...body.matchAll(
      /<tr data-handle="([^"]+)"( class="current")?>\s*<td class="device">([^<]*)<\/td>/g,
    ),
  ].map(([, handle, current, device]) => ({ handle, device, current: !!current }))
}

async function setup() {
  const conn = await freshTable('demo-devices')
  const app = createApp({ ...conn, secret: SECRET })
  /** A browser: its own cookie jar and User-Agent. */
  const browser = (userAgent: string) =>
    new DemoClient(ORIGIN, async (url, init) => {
      const headers = new Headers(init.headers)
      headers.set('user-agent', userAgent)
      return app.request(url, { ...init, headers })
    })
  const signIn = async (c: DemoClient, username = 'alice') => {
    const page = await c.post('/login', { username, password: 'correct horse' })
    assert.equal(userOf(page.body), username)
  }
  return { browser, signIn }
}

describe('demo app: your devices', () => {
  test('lists every browser of the user with its device, the current one marked', async () => {
    const { browser, signIn } = await setup()
    const laptop = browser('Firefox on the laptop')
    const phone = browser('Safari on the phone')
    await signIn(laptop)
    await signIn(phone)
    await signIn(browser('Edge'), 'bob')
    const page = await phone.get('/devices')
    assert.equal(page.status, 200)
    const rows = devicesOf(page.body)
    assert.deepEqual(rows.map((r) => [r.device, r.current]).sort(), [
      ['Firefox on the laptop', false],
      ['Safari on the phone', true],
    ])
    assert.match(page.body, /This device/)
    assert.match(page.body, /Every browser signed in as <strong>alice<\/strong>/)
  })

  test('"Sign out" on another device signs that browser out, and only it', async () => {
    const { browser, signIn } = await setup()
    const laptop = browser('Firefox on the laptop')
    const phone = browser('Safari on the phone')
    await signIn(laptop)
    await signIn(phone)
    const laptopHandle = devicesOf((await phone.get('/devices')).body).find((r) => !r.current)
    const page = await phone.post('/devices/sign-out', { handle: laptopHandle?.handle as string })
    assert.equal(page.path, '/devices')
    assert.equal(noticeOf(page.body), 'Signed out that device')
    assert.deepEqual(
      devicesOf(page.body).map((r) => r.device),
      ['Safari on the phone'],
    )
    assert.equal(userOf((await laptop.get('/')).body), undefined, 'the laptop is signed out')
    assert.equal(userOf((await phone.get('/')).body), 'alice')
    await signIn(laptop)
    assert.equal(userOf((await laptop.get('/')).body), 'alice', 'and can sign in again at once')
  })

  test('"Sign out everywhere else" keeps only this browser signed in', async () => {
    const { browser, signIn } = await setup()
    const others = [browser('one'), browser('two'), browser('three')]
    for (const c of others) await signIn(c)
    const here = browser('here')
    await signIn(here)
    const page = await here.post('/devices/sign-out-others', {})
    assert.equal(noticeOf(page.body), 'Signed out 3 other devices')
    assert.deepEqual(
      devicesOf(page.body).map((r) => r.device),
      ['here'],
    )
    for (const c of others) assert.equal(userOf((await c.get('/')).body), undefined)
    assert.equal(userOf((await here.get('/')).body), 'alice')
  })

  test('is for signed-in users only', async () => {
    const { browser } = await setup()
    const anonymous = browser('anonymous')
    const page = await anonymous.get('/devices')
    assert.equal(page.path, '/')
    assert.match(page.body, /action="\/login"/)
    const post = await anonymous.post('/devices/sign-out-others', {})
    assert.equal(post.path, '/')
  })
})
