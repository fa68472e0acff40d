// examples/lambda.ts: the demo's Lambda handler called as API Gateway (HTTP API, payload 2.0)
// calls it, against DynamoDB Local: sign in, the cookie in the `cookies` field, a signed-in page.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { LambdaContext, LambdaEvent } from 'hono/aws-lambda'
import { handler } from '../../examples/lambda.ts'
import { userOf } from '../support/demo-client.ts'
import { freshTable, SECRET, scanAll } from '../support/dynamodb.ts'

const HOST = 'abc123.execute-api.us-east-1.amazonaws.com'

function event(
  method: string,
  path: string,
  options: { cookies?: string[]; form?: Record<string, string> } = {},
): LambdaEvent {
  const body = options.form ? new URLSearchParams(options.form).toString() : null
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    cookies: options.cookies,
    headers: {
      host: HOST,
      'x-forwarded-proto': 'https',
      ...(body
        ? { 'content-type': 'application/x-www-form-urlencoded', origin: `https://${HOST}` }
        : {}),
    },
    body: body === null ? null : Buffer.from(body).toString('base64'),
    isBase64Encoded: body !== null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authentication: null,
      authorizer: {},
      domainName: HOST,
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  }
}

const context = { awsRequestId: 'test', functionName: 'demo' } as unknown as LambdaContext

describe('examples/lambda.ts', () => {
  const saved = { ...process.env }
  let table: string

  before(async () => {
    const conn = await freshTable('lambda')
    table = conn.table
    // What Lambda and the function's configuration put in the environment.
    Object.assign(process.env, {
      SESSION_TABLE: table,
      SESSION_SECRET: SECRET,
      AWS_REGION: conn.region,
      AWS_ENDPOINT_URL_DYNAMODB: conn.endpoint,
      AWS_ACCESS_KEY_ID: conn.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: conn.credentials.secretAccessKey,
    })
  })

  after(() => {
    process.env = saved
  })

  test('an API Gateway v2 event signs in, and the cookie it returns loads the session', async () => {
    const first = await handler(event('GET', '/'), context)
    assert.equal(first.statusCode, 200)
    assert.match(first.body ?? '', /<form method="post" action="\/login">/)

    const login = await handler(
      event('POST', '/login', { form: { username: 'lambda_user', password: 'password123' } }),
      context,
    )
    assert.equal(login.statusCode, 303)
    assert.equal(login.headers?.location, '/')
    const sid = (login as { cookies?: string[] }).cookies?.find((c) => c.startsWith('sid='))
    assert.ok(sid, `a session cookie in the cookies field: ${JSON.stringify(login)}`)
    assert.match(sid, /HttpOnly/i)

    const page = await handler(event('GET', '/', { cookies: [sid.split(';')[0]] }), context)
    assert.equal(page.statusCode, 200)
    assert.equal(userOf(page.body ?? ''), 'lambda_user')
    const stored = (await scanAll(table)).filter((item) => item.data)
    assert.equal(stored.length, 1)
    assert.deepEqual(stored[0].data.M.user, { S: 'lambda_user' })
  })
})
