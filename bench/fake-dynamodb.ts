// An in-process DynamoDB for the CPU and cold-start benchmarks: answers at once with canned
// JSON, so what is measured is the middleware and its client, not a database.

/** The operation a DynamoDB JSON-API call names, from a Request or from fetch's init headers. */
function operationOf(input: RequestInfo | URL, init?: RequestInit): string {
  let target: string | null | undefined
  if (input instanceof Request) target = input.headers.get('x-amz-target')
  else {
    const headers = init?.headers
    if (headers instanceof Headers) target = headers.get('x-amz-target')
    else if (headers) {
      const record = headers as Record<string, string>
      target = record['x-amz-target'] ?? record['X-Amz-Target']
    }
  }
  return target ? target.slice(target.indexOf('.') + 1) : ''
}

async function bodyOf(input: RequestInfo | URL, init?: RequestInit): Promise<string> {
  if (input instanceof Request) return input.text()
  const body = init?.body
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array) return new TextDecoder().decode(body)
  return body ? new Response(body).text() : ''
}

const HEADERS = { 'content-type': 'application/x-amz-json-1.0' }

/**
 * A fetch that plays DynamoDB: PutItem keeps the item, GetItem returns the last item kept (so any
 * valid cookie finds a session), every other write answers `{}` without applying anything.
 */
export function fakeDynamoDB() {
  let item = ''
  const calls: Record<string, number> = {}
  const fake: typeof fetch = async (input, init) => {
    const op = operationOf(input, init)
    calls[op] = (calls[op] ?? 0) + 1
    if (op === 'PutItem') {
      item = JSON.stringify({ Item: JSON.parse(await bodyOf(input, init)).Item })
      return new Response('{}', { headers: HEADERS })
    }
    if (op === 'GetItem') return new Response(item || '{}', { headers: HEADERS })
    return new Response('{}', { headers: HEADERS })
  }
  return { fetch: fake, calls }
}
