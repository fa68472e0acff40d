/**
 * @module The benchmarks' baseline transport: the same `Send` as src/client.ts, built on
 * `@aws-sdk/client-dynamodb` instead of aws4fetch, so `sessionMiddleware(options, makeClient)`
 * keeps every session rule and only the DynamoDB client differs.
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import type { ClientConfig, Send } from '../src/client.ts'
import { parseError } from '../src/client.ts'
import { DynamoSessionError } from '../src/errors.ts'

// Only the operations the middleware sends, as an app using the SDK would import them.
// biome-ignore lint/suspicious/noExplicitAny: each command takes its own input shape
const COMMANDS: Record<string, new (input: any) => any> = {
  GetItem: GetItemCommand,
  PutItem: PutItemCommand,
  UpdateItem: UpdateItemCommand,
  DeleteItem: DeleteItemCommand,
}

interface SdkRequest {
  protocol: string
  hostname: string
  port?: number
  path: string
  method: string
  headers: Record<string, string>
  body?: BodyInit
}

/**
 * Sends the SDK's requests through the configured `fetch`, as the `fetch` option promises: the
 * SDK's own handlers take the global one (or node:http), which would leave the fake DynamoDB of
 * the CPU benchmark unused.
 */
class FetchHandler {
  readonly #fetch: typeof fetch
  readonly #timeoutMs: number
  constructor(fetcher: typeof fetch, timeoutMs: number) {
    this.#fetch = fetcher
    this.#timeoutMs = timeoutMs
  }
  async handle(request: SdkRequest, options?: { abortSignal?: unknown }) {
    const port = request.port ? `:${request.port}` : ''
    const timeout = AbortSignal.timeout(this.#timeoutMs)
    const signal =
      options?.abortSignal instanceof AbortSignal
        ? AbortSignal.any([timeout, options.abortSignal])
        : timeout
    const response = await this.#fetch(
      `${request.protocol}//${request.hostname}${port}${request.path}`,
      { method: request.method, headers: request.headers, body: request.body, signal },
    )
    const headers: Record<string, string> = {}
    response.headers.forEach((value, name) => {
      headers[name] = value
    })
    const body = new Uint8Array(await response.arrayBuffer())
    return { response: { statusCode: response.status, reason: '', headers, body } }
  }
  updateHttpClientConfig() {}
  httpHandlerConfigs() {
    return {}
  }
  destroy() {}
}

/** A `Send` over the AWS SDK v3, its errors mapped to the same `DynamoSessionError` codes. */
export function makeClient(config: ClientConfig): Send {
  const client = new DynamoDBClient({
    region: config.region,
    endpoint: config.endpoint,
    credentials: config.credentials,
    maxAttempts: config.retry.attempts,
    requestHandler: new FetchHandler(config.fetch, config.retry.timeoutMs),
  })
  return async function send(operation, input) {
    const Command = COMMANDS[operation]
    if (!Command)
      throw new DynamoSessionError('DYNAMODB', `${operation} is not in the SDK baseline`)
    try {
      return await client.send(new Command(input))
    } catch (error) {
      const where = {
        operation,
        table: typeof input.TableName === 'string' ? input.TableName : undefined,
        region: config.region,
        endpoint: config.endpoint,
      }
      const status = (error as DynamoDBServiceException)?.$metadata?.httpStatusCode
      if (error instanceof DynamoDBServiceException || status !== undefined) {
        const e = error as DynamoDBServiceException
        const text = JSON.stringify({ __type: e.name, message: e.message })
        throw parseError(status ?? 400, text, where.operation, where.table, config)
      }
      const name = (error as Error)?.name
      throw new DynamoSessionError(
        name === 'TimeoutError' || name === 'AbortError' ? 'TIMEOUT' : 'NETWORK',
        `DynamoDB ${operation} could not reach ${config.endpoint}: ${(error as Error)?.message}`,
        { cause: error },
      )
    }
  }
}
