// Found by the model test (tests/model/), and not yet fixed, so out of the default run
// (`node --import tsx --test tests/violations/*.test.ts` runs it): a flash value a request showed is
// shown again after a concurrent sign-in.
//
// docs/guarantees.md: "a consumed flash value is never delivered again"; "Consuming removes
// exactly the values the request read". A sign-in loads the session; another tab flashes a value
// (200); a third tab shows it (200) but its clean-up lands after the sign-in ended the session, so
// it is refused and ignored (a read is not failed for its clean-up); the sign-in, whose end met
// the flash's write, replayed on a fresh read and carried the value over ("replays carry every
// value flashed meanwhile"). The next request through the new session shows it a second time.
// Model seed: npm run model -- --backend memory --locking off --seed 400 --path
// 396:2:1:6:5:5:5:7:7:9:9:9:10:10:10:10:10:10:11:10:12:13:13:13:13:13:13:13
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loggedIn, testApp } from '../support/app.ts'
import { cookieFrom } from '../support/cookies.ts'
import { freshTable } from '../support/dynamodb.ts'
import { isNewItem, isSave } from '../support/fetch.ts'

/** An app of the lifecycle tests with a route that flashes and one that shows the flash. */
function tab(conn: Awaited<ReturnType<typeof freshTable>>) {
  const a = testApp(conn)
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
  const signInHeld = signInTab.hold(isNewItem)
  const signIn = signInTab.post('/login', cookie)
  await signInHeld.reached
  assert.equal((await flashTab.post('/flash/saved', cookie)).status, 200)
  // The read has loaded the flash; its clean-up waits while the sign-in moves the session.
  const cleanUpHeld = readTab.hold(isSave)
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
