// The demo app tested the Node way: `node --import tsx --test examples/testing/node.test.ts`.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { demo } from './demo.ts'

test('signing in keeps the cart across requests, and signing out ends the session', async () => {
  const { db, get, post } = await demo()
  assert.match(await (await get('/')).text(), /action="\/login"/)

  const shop = await post('/login', { username: 'alice', password: 'correct horse' })
  assert.match(await shop.text(), /Signed in as <strong>alice<\/strong>/)
  await post('/cart/add', { item: 'Cherry' })
  assert.match(await (await get('/')).text(), /<li>Cherry/)
  assert.ok((db.tables.get('sessions')?.items.length ?? 0) > 0)

  const out = await post('/logout', {})
  assert.match(await out.text(), /Signed out/)
  assert.match(await (await get('/')).text(), /action="\/login"/)
})
