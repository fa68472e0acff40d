// One DynamoDB client (and so one signing-key cache) per configuration, not per request.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hono } from 'hono'
import { type ClientConfig, createClient } from '../../src/client.ts'
import type { SessionEnv } from '../../src/index.ts'
import { sessionMiddleware } from '../../src/middleware.ts'
import { cookieOf } from '../support/cookies.ts'
import { credentials, freshTable, SECRET } from '../support/dynamodb.ts'

describe('client reuse', () => {
  test('requests with the same configuration share one client; new credentials get their own', async () => {
    const conn = await freshTable('client')
    const made: ClientConfig[] = []
    let key = 'first'
    const app = new Hono<SessionEnv<{ n: number }>>()
    app.use(
      sessionMiddleware<{ n: number }>(
        {
          ...conn,
          secret: SECRET,
          // Rotated credentials, as from STS: asked for on every request that needs DynamoDB.
          credentials: () => ({ ...credentials, accessKeyId: key }),
        },
        (config) => {
          made.push(config)
          return createClient(config)
        },
      ),
    )
    app.get('/', (c) => {
      c.get('session').increment('n')
      return c.json({ n: c.get('session').get('n') })
    })
    const cookie = cookieOf(await app.request('/'))
    for (let i = 0; i < 5; i++) await app.request('/', { headers: { cookie } })
    assert.equal(made.length, 1, 'six requests, one client')
    assert.equal(made[0].credentials.accessKeyId, 'first')
    key = 'second'
    const res = await app.request('/', { headers: { cookie } })
    assert.deepEqual(await res.json(), { n: 7 })
    assert.equal(made.length, 2, 'rotated credentials get a client of their own')
    assert.equal(made[1].credentials.accessKeyId, 'second')
  })
})
