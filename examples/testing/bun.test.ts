/// <reference types="bun-types" />
// The demo app tested the Bun way: `bun test examples/testing/bun.test.ts`.
import { expect, test } from 'bun:test'
import { demo } from './demo.ts'

test('signing in keeps the cart across requests, and signing out ends the session', async () => {
  const { db, get, post } = await demo()
  expect(await (await get('/')).text()).toContain('action="/login"')

  const shop = await post('/login', { username: 'alice', password: 'correct horse' })
  expect(await shop.text()).toContain('Signed in as <strong>alice</strong>')
  await post('/cart/add', { item: 'Cherry' })
  expect(await (await get('/')).text()).toContain('<li>Cherry')
  expect(db.tables.get('sessions')?.items.length).toBeGreaterThan(0)

  const out = await post('/logout', {})
  expect(await out.text()).toContain('Signed out')
  expect(await (await get('/')).text()).toContain('action="/login"')
})
