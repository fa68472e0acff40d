// Load benchmark: a Node HTTP server (@hono/node-server) with the middleware over DynamoDB Local
// (started here), loaded from another process over loopback by autocannon: 5,000 requests at
// concurrency 50, half reads, half increments of one session. Prints requests/s, p50 and p99
// latency, and whether every 2xx increment was counted.
//
//   node --import tsx bench/load.ts            # 5,000 requests, concurrency 50
//   node --import tsx bench/load.ts --smoke    # 200 requests, concurrency 10
//   node --import tsx bench/load.ts --amount 20000 --connections 100
import { createSessionTable } from '../src/index.ts'
import { startDynamoDBLocal } from '../tests/infra/dynamodb-local.ts'
import { ok, runLoad } from '../tests/infra/load.ts'

const args = process.argv.slice(2)
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const smoke = args.includes('--smoke')
const amount = flag('--amount', smoke ? 200 : 5000)
const connections = flag('--connections', smoke ? 10 : 50)

const ddb = await startDynamoDBLocal()
try {
  const conn = {
    table: 'load-bench',
    region: 'us-east-1',
    endpoint: ddb.endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  }
  await createSessionTable(conn)
  const secret = 'a-benchmark-secret-that-is-long-enough-0123456789'
  const r = await runLoad({ ...conn, secret }, { amount, connections })
  const increments = ok(r.tally.increment)
  const correct = r.non2xx === 0 && r.errors === 0 && r.finalCount === increments
  console.log(
    [
      `load: ${amount} requests, concurrency ${connections}, half GET /read, half POST /increment`,
      `  node ${process.version}, DynamoDB Local at ${ddb.endpoint}`,
      `  requests/s  ${r.requestsPerSecond.toFixed(0)}`,
      `  latency p50 ${r.p50} ms, p99 ${r.p99} ms`,
      `  statuses    read ${JSON.stringify(r.tally.read)}, increment ${JSON.stringify(r.tally.increment)}`,
      `  errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}`,
      `  count       ${r.finalCount} stored, ${increments} increments answered 2xx: ${correct ? 'correct' : 'WRONG'}`,
    ].join('\n'),
  )
  if (!correct) process.exitCode = 1
} finally {
  await ddb.stop()
}
