/**
 * @module The demo on Deno: `deno run --allow-net --allow-env examples/deno.ts`. Configuration
 * from the environment: SESSION_TABLE, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_ENDPOINT_URL_DYNAMODB, SESSION_SECRET; PORT (default 3000; 0 picks a free one) and HOST
 * (default 127.0.0.1).
 */
import { createApp } from './app.ts'

// The part of Deno's API this file uses, so that it type-checks with tsc as well as with deno.
declare const Deno: {
  env: { get(name: string): string | undefined }
  serve(
    options: { port: number; hostname: string; onListen: (addr: { port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown
}

const app = createApp()
const hostname = Deno.env.get('HOST') ?? '127.0.0.1'
Deno.serve(
  {
    port: Number(Deno.env.get('PORT') ?? 3000),
    hostname,
    onListen: ({ port }) => console.log(`Demo listening on http://${hostname}:${port}`),
  },
  app.fetch,
)
