// What write tokens cost a busy session's item: 500 changes in a row as fast as the store answers,
// then 500 increments at 50 at once, on memoryDynamoDB(); prints the tokens the item keeps and its
// size in DynamoDB's bytes (write units are billed per KB).
//   node --import tsx bench/hot-session.ts
import { Hono } from 'hono'
import { createSessionTable, dynamoSession, type SessionEnv } from '../src/index.ts'
import { attributeSize } from '../src/marshall.ts'
import { memoryDynamoDB } from '../src/testing/index.ts'

const db = memoryDynamoDB()
const conn = {
  table: 'hot',
  region: 'eu-west-1',
  endpoint: 'http://dynamodb.bench',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  fetch: db.fetch,
}
await createSessionTable(conn)
const app = new Hono<SessionEnv<Record<string, unknown>>>()
app.use(dynamoSession({ ...conn, secret: 'a-secret-for-the-benchmark-0123456789' }))
app.post('/set/:v', (c) => {
  c.get('session').set('cart', c.req.param('v'))
  return c.text('ok')
})
app.post('/increment', (c) => {
  c.get('session').increment('n')
  return c.text('ok')
})
const post = (path: string, cookie?: string) =>
  app.request(path, { method: 'POST', headers: cookie ? { cookie } : {} })

const cookie = (await post('/set/first')).headers.getSetCookie()[0].split(';')[0]
const item = () => db.tables.get('hot')?.items[0] as Record<string, { M?: object }>
const figures = (what: string) => {
  const i = item()
  const bytes = Object.entries(i).reduce(
    (n, [name, value]) => n + name.length + attributeSize(value as never),
    0,
  )
  console.log(
    `${what.padEnd(40)} ${String(Object.keys(i.w?.M ?? {}).length).padStart(4)} tokens ${String(bytes).padStart(6)} bytes  ${Math.ceil(bytes / 1024)} write unit(s) per write`,
  )
}
figures('a new session')
for (let n = 0; n < 500; n++) await post(`/set/${n}`, cookie)
figures('after 500 changes in a row')
for (let round = 0; round < 10; round++)
  await Promise.all(Array.from({ length: 50 }, () => post('/increment', cookie)))
figures('after 500 increments, 50 at once')
await new Promise((r) => setTimeout(r, 1100))
await post('/set/last', cookie)
figures('one change a second later')
