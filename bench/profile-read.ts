// The read path alone, for a CPU profile (bench/profile.ts starts this under `node --cpu-prof` and
// `bun --cpu-prof`): the middleware loads a session from the fake DynamoDB and the handler reads it.
import { makeApp } from './apps.ts'
import { fakeDynamoDB } from './fake-dynamodb.ts'

const n = Number(process.argv[2] ?? 3000)
const app = await makeApp('ours (aws4fetch)', {
  table: 'bench',
  endpoint: 'http://fake.local',
  ...fakeDynamoDB(),
})
const login = await app.request('/login', { method: 'POST' })
const cookie = login.headers.getSetCookie()[0].split(';')[0]
const init = { headers: { cookie } }
for (let i = 0; i < n; i++) {
  const res = await app.request('http://localhost/read', init)
  if (res.status !== 200) throw new Error(`read answered ${res.status}`)
  await res.arrayBuffer()
}
