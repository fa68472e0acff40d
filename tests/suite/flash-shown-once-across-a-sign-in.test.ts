// A flash value is shown at most once, even when the read that showed it cleans up after a
// concurrent sign-in moved the session (and carried the value over): the clean-up follows the
// sign-in's tombstone to the new item. Found by the model test (tests/model/), seed 400.
//
// docs/guarantees.md: "a consumed flash value is never delivered again".
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { freshTable } from '../helpers.ts'
import { cookieFrom, isNewItem, isSave, loggedIn, makeApp } from '../lifecycle.ts'

/** An app of the lifecycle tests with a route that flashes and one that shows the flash. */
function tab(conn: Awaited<ReturnType<typeof freshTable>>) {
  const a = makeApp(conn)
  a.app.post('/flash/:v', (c) => {
    c.get('session').flash('notice', c.req.param('v'))
    return c.text('flashed')
  })
  a.app.get('/show', (c) => c.json({ notice: c.get('session').takeFlash('notice') ?? null }))
  return a
}

test('a flash value shown by a read whose clean-up meets a concurrent sign-in is not shown again', async () => {
  const conn = await freshTable('violation-flash')
  const [signInTab, flashTab, readTab] = [tab(conn), tab(conn), tab(conn)]
  const cookie = await loggedIn(signInTab)
  // The sign-in has loaded the session; its new item waits.
  const signInHeld = signInTab.gate.hold(isNewItem)
  const signIn = signInTab.post('/login', cookie)
  await signInHeld.reached
  assert.equal((await flashTab.post('/flash/saved', cookie)).status, 200)
  // The read has loaded the flash; its clean-up waits while the sign-in moves the session.
  const cleanUpHeld = readTab.gate.hold(isSave)
  const shown = readTab.get('/show', cookie)
  await cleanUpHeld.reached
  signInHeld.release()
  const login = await signIn
  assert.equal(login.status, 200)
  cleanUpHeld.release()
  const first = await shown
  assert.equal(first.status, 200)
  assert.deepEqual(await first.json(), { notice: 'saved' }, 'the read showed the flash')
  const again = await signInTab.get('/show', cookieFrom(login))
  assert.deepEqual(await again.json(), { notice: null }, 'shown once, never again')
})
