// One cold start, in a fresh process: import a Worker bundle, answer its first request, print the
// timings as JSON. DynamoDB is a fetch that answers at once, so the figure is the code's own.
// Plain JavaScript, so Node runs it without a TypeScript loader in the way.
const file = process.argv[2]
const started = performance.now()

globalThis.fetch = async () =>
  new Response('{}', { headers: { 'content-type': 'application/x-amz-json-1.0' } })

const worker = (await import(file)).default
const imported = performance.now()
const response = await worker.fetch(new Request('http://localhost/'), {})
await response.text()
const answered = performance.now()

console.log(
  JSON.stringify({
    status: response.status,
    importMs: imported - started,
    firstRequestMs: answered - imported,
    totalMs: answered - started,
  }),
)
