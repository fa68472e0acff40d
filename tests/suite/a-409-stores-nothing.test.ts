// A 409 means nothing of the request was stored (docs/guarantees.md), also when the network
// fails while it undoes what it wrote: a sign-in that loses to a sign-out buries the new item it
// wrote, and a bury the network drops is done later, in the background (found by the model test,
// tests/model/: a live item no cookie names was left behind a 409).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loggedIn, testApp } from '../support/app.ts'
import { sleep } from '../support/clock.ts'
import { cookieFrom } from '../support/cookies.ts'
import { freshTable, live, scanAll } from '../support/dynamodb.ts'
import { type Body, isEnd, isSave } from '../support/fetch.ts'

/** A fetch whose first `n` buries (a tombstone put without condition) never get an answer. */
function droppingBuries(n: number): typeof fetch {
  let dropped = 0
  return async (input, init) => {
    const request = new Request(input, init)
    const body: Body = JSON.parse(await request.clone().text())
    const bury = !!body?.Item?.end && !body.ConditionExpression
    if (bury && dropped++ < n) {
      return new Promise((_, reject) => {
        request.signal.addEventListener('abort', () => reject(new Error('no answer')))
      })
    }
    return fetch(request)
  }
}

test('a sign-in that loses to a sign-out answers 409 and leaves nothing, when its bury gets no answer', async () => {
  const conn = await freshTable('a409-bury')
  const retry = { attempts: 2, timeoutMs: 500, budgetMs: 5000 }
  const signInTab = testApp(conn, { retry, fetch: droppingBuries(2) })
  const signOutTab = testApp(conn, { retry })
  const cookie = await loggedIn(signInTab)
  // The sign-in has written its new item; the end of the old one waits while the sign-out lands.
  const held = signInTab.hold(isEnd)
  const signIn = signInTab.post('/login', cookie)
  await held.reached
  assert.equal((await signOutTab.post('/logout', cookie)).status, 200)
  held.release()
  const res = await signIn
  assert.equal(res.status, 409)
  assert.deepEqual(res.headers.getSetCookie(), [])
  // Both attempts of the bury within the request got no answer; it is done in the background.
  let left = live(await scanAll(conn.table))
  for (let i = 0; i < 50 && left.length; i++) {
    await sleep(100)
    left = live(await scanAll(conn.table))
  }
  assert.deepEqual(left, [], 'no live item is left behind the 409')
})

test('a change applied before a sign-in, its reply lost, is never answered 409 once the sign-in carried it', async () => {
  // The sign-in's tombstone keeps every token of the session it ends: the retry finds its token.
  // (Had the token been pruned before the end, the retry could not tell, and answers 503.)
  const conn = await freshTable('tombstone-tokens')
  const [tabA, tabB] = [testApp(conn), testApp(conn)]
  const cookie = await loggedIn(tabB)
  const held = tabA.hold(isSave, 'after')
  const increment = tabA.post('/increment/n', cookie)
  await held.reached
  for (let i = 0; i < 30; i++) assert.equal((await tabB.post(`/set/k${i}/v`, cookie)).status, 200)
  await sleep(1100)
  const login = await tabB.post('/login', cookie)
  assert.equal(login.status, 200)
  held.lose()
  const res = await increment
  assert.deepEqual((await tabB.whoami(cookieFrom(login)))?.n, 1, 'the sign-in carried it over')
  assert.notEqual(
    res.status,
    409,
    `a 409 says nothing was stored (${tabA.errors.map((e) => e.code)})`,
  )
})
