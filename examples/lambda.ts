/**
 * @module The demo on AWS Lambda, behind API Gateway (HTTP API, payload 2.0) or a function URL:
 * `handle` from `hono/aws-lambda` turns the event into a Request and the app's Response into the
 * result Lambda expects. Configuration from the function's environment: SESSION_TABLE,
 * SESSION_SECRET; AWS_REGION and the credentials are set by Lambda itself (the function's
 * execution role), so only the table and the secret need setting.
 */
import { handle } from 'hono/aws-lambda'
import { createApp } from './app.ts'

/** The Lambda handler: set the function's handler to `lambda.handler` once bundled. */
export const handler: ReturnType<typeof handle> = handle(createApp())
