// The save rules, without DynamoDB: what the save phase writes for each kind of request, the
// expiry it gives, and when the cookie is sent again.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { SessionChanges } from '../../src/changes.ts'
import {
  expiryFor,
  GRACE_SECONDS,
  type Plan,
  plan as rules,
  type Timing,
  touchDue,
} from '../../src/rules.ts'
import { SessionState } from '../../src/session.ts'
import type { StoredSession } from '../../src/store/item.ts'

const t: Timing = { maxAge: 86400, absoluteMaxAge: 604800, touchAfter: 8640 }
const NOW = 1_800_000_000

/** A stored session created `age` seconds ago whose expiry is `expires`. */
const stored = (
  age: number,
  expires: number,
  flash: Record<string, string> = {},
): StoredSession => ({
  data: { user: 'ada', n: 1 },
  flash,
  expires,
  created: NOW - age,
  handle: 'handle',
  v: 3,
  w: {},
  wf: 0,
})

/**
 * The plan for a request, in short: what is written (the data of a new session, the new
 * expiry) and whether the cookie is sent. The cookie of every plan names the request's id.
 */
function plan(
  c: SessionChanges,
  s: StoredSession | null,
  ended: boolean | number,
  now: number,
  timing: Timing,
): Record<string, unknown> {
  // `true`: a cookie named a session ended 10 s ago; a number: ended then.
  const at = ended === true ? now - 10 : ended === false ? undefined : ended
  const p: Plan = rules(
    c,
    s ? { state: 'live', id: 'id', key: 'key', stored: s } : { state: 'none', ended: at },
    'id',
    now,
    timing,
    () => 'a browser',
  )
  if ('cookie' in p && p.cookie && p.cookie !== 'clear') assert.equal(p.cookie.id, 'id')
  if ('current' in p) assert.deepEqual(p.current, { key: 'key', stored: s })
  switch (p.op) {
    case 'create':
      assert.deepEqual(p.cookie, { id: 'id', expires: p.item.expires })
      assert.equal(p.item.created, now)
      return { op: 'put', data: p.item.data, expires: p.item.expires }
    case 'end':
      if (!p.next) {
        assert.equal(p.cookie, 'clear')
        return { op: 'destroy' }
      }
      assert.deepEqual(p.cookie, { id: 'id', expires: p.next.item.expires })
      return { op: 'destroy', data: p.next.item.data, expires: p.next.item.expires }
    case 'move':
      assert.deepEqual(p.cookie, { id: 'id', expires: p.to.expires })
      return { op: 'regenerate' }
    case 'update':
      if (p.cookie) assert.deepEqual(p.cookie, { id: 'id', expires: p.expires })
      return { op: 'update', expires: p.expires, cookie: !!p.cookie }
    case 'none':
      return p.cookie ? { op: p.op, cookie: p.cookie } : { op: p.op }
    default:
      return { op: p.op }
  }
}

/** The changes a handler makes to a session loaded as `s` (null: no stored session). */
function changes(s: StoredSession | null, handler: (session: SessionState) => void = () => {}) {
  const session = new SessionState('id', s, null)
  handler(session)
  return session.changes()
}

describe('plan', () => {
  test('no stored session: nothing to write until the handler stores something', () => {
    assert.deepEqual(plan(changes(null), null, false, NOW, t), { op: 'none' })
    assert.deepEqual(
      plan(
        changes(null, (s) => s.takeFlash('x')),
        null,
        false,
        NOW,
        t,
      ),
      {
        op: 'none',
      },
    )
    assert.deepEqual(
      plan(
        changes(null, (s) => s.set('user', 'ada')),
        null,
        false,
        NOW,
        t,
      ),
      { op: 'put', data: { user: 'ada' }, expires: NOW + t.maxAge },
    )
    const flashOnly = plan(
      changes(null, (s) => s.flash('notice', 'hi')),
      null,
      false,
      NOW,
      t,
    )
    assert.equal(flashOnly.op, 'put', 'a flash value alone is worth a new session')
  })

  test('a new session set and emptied in one request writes nothing', () => {
    const c = changes(null, (s) => {
      s.set('a', 1)
      s.delete('a')
    })
    assert.deepEqual(plan(c, null, false, NOW, t), { op: 'none' })
  })

  test('a cookie naming a session ended within the grace: changes are refused, sign-in and sign-out work', () => {
    for (const handler of [
      (s: SessionState) => s.set('cart', 1),
      (s: SessionState) => s.increment('visits'),
      (s: SessionState) => s.flash('notice', 'hi'),
    ]) {
      assert.deepEqual(plan(changes(null, handler), null, true, NOW, t), { op: 'refuse' })
    }
    // A sign-in starts from an empty session; one that binds a user or stores data is written.
    const signIn = plan(
      changes(null, (s) => {
        s.regenerate()
        s.set('user', 'ada')
      }),
      null,
      true,
      NOW,
      t,
    )
    assert.deepEqual(signIn, { op: 'put', data: { user: 'ada' }, expires: NOW + t.maxAge })
    assert.equal(
      plan(
        changes(null, (s) => s.regenerate({ userId: 'ada' })),
        null,
        true,
        NOW,
        t,
      ).op,
      'put',
    )
    // A sign-out clears the cookie, and writes nothing.
    assert.deepEqual(
      plan(
        changes(null, (s) => s.destroy()),
        null,
        true,
        NOW,
        t,
      ),
      {
        op: 'none',
        cookie: 'clear',
      },
    )
    // Reads and touches: nothing written, the cookie left alone.
    assert.deepEqual(plan(changes(null), null, true, NOW, t), { op: 'none' })
    assert.deepEqual(
      plan(
        changes(null, (s) => s.touch()),
        null,
        true,
        NOW,
        t,
      ),
      { op: 'none' },
    )
    // The grace is GRACE_SECONDS from the end: its last second still refuses.
    const edge = NOW - GRACE_SECONDS + 1
    assert.deepEqual(
      plan(
        changes(null, (s) => s.set('cart', 1)),
        null,
        edge,
        NOW,
        t,
      ),
      { op: 'refuse' },
    )
  })

  test('a cookie naming a session ended longer ago than the grace is no cookie; a read leaves it', () => {
    const past = NOW - GRACE_SECONDS
    assert.deepEqual(
      plan(
        changes(null, (s) => s.set('cart', 1)),
        null,
        past,
        NOW,
        t,
      ),
      {
        op: 'put',
        data: { cart: 1 },
        expires: NOW + t.maxAge,
      },
    )
    // A read never clears a cookie: past the grace as for an unknown or expired session.
    assert.deepEqual(plan(changes(null), null, past, NOW, t), { op: 'none' })
    assert.deepEqual(plan(changes(null), null, false, NOW, t), { op: 'none' })
  })

  test('destroy() without a stored session clears the cookie and writes nothing', () => {
    assert.deepEqual(
      plan(
        changes(null, (s) => s.destroy()),
        null,
        false,
        NOW,
        t,
      ),
      {
        op: 'none',
        cookie: 'clear',
      },
    )
  })

  test('destroy and regenerate of a stored session', () => {
    const s = stored(100, NOW + 1000)
    assert.deepEqual(
      plan(
        changes(s, (x) => x.destroy()),
        s,
        false,
        NOW,
        t,
      ),
      { op: 'destroy' },
    )
    assert.deepEqual(
      plan(
        changes(s, (x) => x.regenerate()),
        s,
        false,
        NOW,
        t,
      ),
      {
        op: 'regenerate',
      },
    )
    // A destroy wins over a regenerate in the same request, in either order.
    const both = changes(s, (x) => {
      x.destroy()
      x.regenerate()
    })
    assert.deepEqual(plan(both, s, false, NOW, t), { op: 'destroy' })
  })

  test('written to after destroy(): the old session ends and a new one holds what was written', () => {
    const s = stored(100, NOW + 1000)
    // The same value the destroyed session held is still written: the new session starts empty.
    assert.deepEqual(
      plan(
        changes(s, (x) => {
          x.destroy()
          x.set('user', 'ada')
          x.increment('n')
          x.flash('notice', 'signed out')
        }),
        s,
        false,
        NOW,
        t,
      ),
      { op: 'destroy', data: { user: 'ada', n: 1 }, expires: NOW + t.maxAge },
    )
  })

  test('a read-only request: no write until the touch is due, then the expiry and the cookie move', () => {
    // Loaded 1 s after its last write: not due.
    const fresh = stored(100, NOW - 1 + t.maxAge)
    assert.deepEqual(plan(changes(fresh), fresh, false, NOW, t), { op: 'none' })
    // Last written touchAfter seconds ago: due.
    const old = stored(100_000, NOW - t.touchAfter + t.maxAge)
    assert.deepEqual(plan(changes(old), old, false, NOW, t), {
      op: 'update',
      expires: NOW + t.maxAge,
      cookie: true,
    })
  })

  test('every change moves the expiry and sends the cookie, however recent the last write', () => {
    // Written a second ago: a touch would not be due, yet the change refreshes the cookie, so
    // a user whose requests all change the session keeps a cookie as long-lived as the item.
    const s = stored(3600, NOW - 1 + t.maxAge)
    assert.deepEqual(
      plan(
        changes(s, (x) => x.set('cart', 1)),
        s,
        false,
        NOW,
        t,
      ),
      {
        op: 'update',
        expires: NOW + t.maxAge,
        cookie: true,
      },
    )
    assert.deepEqual(
      plan(
        changes(s, (x) => x.increment('n')),
        s,
        false,
        NOW,
        t,
      ),
      {
        op: 'update',
        expires: NOW + t.maxAge,
        cookie: true,
      },
    )
  })

  test('the expiry never moves backwards, nor past created + absoluteMaxAge', () => {
    // Another instance already moved it further (a longer maxAge, a clock ahead).
    const ahead = stored(100, NOW + t.maxAge + 500)
    assert.deepEqual(
      plan(
        changes(ahead, (x) => x.set('a', 1)),
        ahead,
        false,
        NOW,
        t,
      ),
      {
        op: 'update',
        expires: NOW + t.maxAge + 500,
        cookie: false,
      },
    )
    // Near the absolute cap, a change writes the capped expiry, which it already has.
    const capped = stored(t.absoluteMaxAge - 60, NOW + 60)
    assert.deepEqual(
      plan(
        changes(capped, (x) => x.set('a', 1)),
        capped,
        false,
        NOW,
        t,
      ),
      {
        op: 'update',
        expires: NOW + 60,
        cookie: false,
      },
    )
    assert.deepEqual(plan(changes(capped), capped, false, NOW, t), { op: 'none' })
  })

  test('touch() moves the expiry when it can move; flash values read are cleaned up', () => {
    const s = stored(100, NOW - 10 + t.maxAge)
    assert.deepEqual(
      plan(
        changes(s, (x) => x.touch()),
        s,
        false,
        NOW,
        t,
      ),
      {
        op: 'update',
        expires: NOW + t.maxAge,
        cookie: true,
      },
    )
    const capped = stored(t.absoluteMaxAge - 60, NOW + 60)
    assert.deepEqual(
      plan(
        changes(capped, (x) => x.touch()),
        capped,
        false,
        NOW,
        t,
      ),
      {
        op: 'none',
      },
    )
    // Flash values the request was given are removed, without moving the expiry.
    const flashed = stored(100, NOW - 1 + t.maxAge, { notice: 'saved' })
    assert.deepEqual(plan(changes(flashed), flashed, false, NOW, t), {
      op: 'update',
      expires: undefined,
      cookie: false,
    })
  })

  test('expiryFor and touchDue', () => {
    assert.equal(expiryFor(NOW, NOW, t), NOW + t.maxAge)
    assert.equal(expiryFor(NOW - t.absoluteMaxAge + 10, NOW, t), NOW + 10)
    assert.equal(touchDue(stored(0, NOW + t.maxAge - t.touchAfter + 1), NOW, t), false)
    assert.equal(touchDue(stored(0, NOW + t.maxAge - t.touchAfter), NOW, t), true)
    // touchAfter 0: every second the expiry can move counts.
    const every = { ...t, touchAfter: 0 }
    assert.equal(touchDue(stored(0, NOW + t.maxAge), NOW, every), false)
    assert.equal(touchDue(stored(0, NOW + t.maxAge - 1), NOW, every), true)
  })
})
