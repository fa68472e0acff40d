// Every benchmark, run with tiny counts, so `npm run bench` cannot rot: each must still build its
// bundles, drive its candidates and find what it measures. No figure is judged here.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { runCost } from '../../bench/cost.ts'
import { runCpu } from '../../bench/cpu.ts'
import { BENCH_DIR, BIN, type RunOptions } from '../../bench/lib.ts'
import { runProfile } from '../../bench/profile.ts'
import { runRegions } from '../../bench/regions.ts'
import { runRoundTrips } from '../../bench/roundtrips.ts'
import { runSize } from '../../bench/size.ts'
import { runThroughput } from '../../bench/throughput.ts'
import { runUsers } from '../../bench/users.ts'
import { testEndpoint } from '../support/backend.ts'

let options: RunOptions

before(async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'bench-smoke-'))
  options = { smoke: true, outDir, endpoint: testEndpoint(), log: () => {} }
})
after(async () => {
  await rm(options.outDir, { recursive: true, force: true })
})

describe('benchmarks, smoke run', () => {
  test('bundle size: ours carries aws4fetch and no SDK, the baseline the reverse', async () => {
    const r = await runSize(options)
    const ours = r.bundles['ours (dynamoSession)']
    const sdk = r.bundles['SDK baseline']
    assert.ok(ours.contributions.aws4fetch > 1000, 'aws4fetch is in our bundle')
    assert.ok(!Object.keys(ours.contributions).some((k) => k.startsWith('@aws-sdk/')))
    assert.ok(sdk.contributions['@aws-sdk/client-dynamodb'] > 1000, 'the SDK is in the baseline')
    // Only aws4fetch's module-level TextEncoder may remain in the baseline, not its client.
    assert.ok((sdk.contributions.aws4fetch ?? 0) < 100)
    assert.deepEqual(ours.tableToolMarkers, [], 'table tools and CLI are shaken out')
    assert.ok(r.addedGzip['ours (dynamoSession)'] > 0)
    for (const runtime of ['node', 'bun']) {
      for (const [worker, s] of Object.entries(r.coldStart[runtime])) {
        assert.ok(s.median > 0, `${runtime} cold start of ${worker}`)
      }
    }
    const written = JSON.parse(await readFile(join(options.outDir, 'size.json'), 'utf8'))
    assert.equal(written.bundles['Hono alone'].gzip, r.bundles['Hono alone'].gzip)
    // @hono/session bundles for a Worker; Architect does not (Node built-ins), but does for Node.
    assert.ok(r.bundles['@hono/session (cookie only)'].contributions.jose > 1000)
    const arc = r.bundles['architect/functions (aws-lite)']
    assert.ok(arc.errors?.some((e) => /Could not resolve "(node:)?\w+"/.test(e)))
    assert.equal(r.addedGzip['architect/functions (aws-lite)'], undefined)
    const arcNode = r.nodeBundles['architect/functions (aws-lite)']
    assert.equal(arcNode.errors, undefined)
    assert.ok(arcNode.contributions['@aws-lite/client'] > 1000, 'aws-lite is in its Node bundle')
    assert.ok((r.nodeAddedGzip['architect/functions (aws-lite)'] ?? 0) > 0)
  })

  test('CPU per request: every candidate answers every scenario, on Node and on Bun', async () => {
    const node = await runCpu(options)
    await new Promise<void>((resolve, reject) =>
      execFile(join(BIN, 'bun'), [join(BENCH_DIR, 'cpu-bun.ts'), options.outDir, 'smoke'], (e) =>
        e ? reject(e) : resolve(),
      ),
    )
    const bun = JSON.parse(await readFile(join(options.outDir, 'cpu-bun.json'), 'utf8'))
    assert.match(bun.runtime, /^Bun /)
    for (const r of [node, bun] as (typeof node)[]) {
      for (const [scenario, candidates] of Object.entries(r.results)) {
        assert.equal(Object.keys(candidates).length, 7, scenario)
        for (const [candidate, s] of Object.entries(candidates)) {
          assert.ok(s.median > 0, `${r.runtime}: ${scenario}, ${candidate}`)
        }
      }
    }
  })

  test('DynamoDB cost: every store is metered, with capacity units reported', async () => {
    const r = await runCost(options)
    const ours = r.results['ours (dynamoSession)']
    const theirs = r.results['express-session + connect-dynamodb']
    const arc = r.results['architect/functions (aws-lite)']
    assert.ok(arc.reads.median > 0 && arc.writes.median > 0)
    assert.ok(arc.wcu.median >= arc.writes.median, 'Architect writes are metered through the proxy')
    // Architect writes the whole item with PutItem on every change.
    assert.ok((arc.perRun[0].calls.PutItem ?? 0) > 0)
    assert.ok(ours.reads.median > 0 && ours.writes.median > 0)
    assert.ok(ours.wcu.median >= ours.writes.median, 'each write reports at least one unit')
    assert.ok(theirs.reads.median > 0 && theirs.writes.median > 0)
    assert.ok(theirs.wcu.median >= theirs.writes.median)
    // express-session touches every unchanged session it loads: UpdateItem calls must show.
    assert.ok((theirs.perRun[0].calls.UpdateItem ?? 0) > 0)
  })

  test('round trips: every kind of request is counted and timed, with and without the delay', async () => {
    const r = await runRoundTrips(options)
    const ours = r.results['ours (dynamoSession)']
    assert.equal(ours.cookieless.calls.median, 0, 'a cookieless request reaches no DynamoDB')
    assert.equal(ours.read.calls.median, 1, 'a read is one GetItem')
    for (const [name, kinds] of Object.entries(r.results)) {
      for (const [kind, row] of Object.entries(kinds)) {
        // Every call is held 20 ms: the delayed median covers at least that many calls' worth.
        assert.ok(row.delayed.median >= row.calls.min * r.delayMs * 0.9, `${name} ${kind}`)
      }
    }
    assert.equal(Object.keys(r.results).length, 3)
  })

  test('throughput: both runtimes serve both workloads, and the raw limit is measured', async () => {
    const r = await runThroughput(options)
    for (const runtime of ['node', 'bun'] as const) {
      for (const workload of ['read-only', 'changing'] as const) {
        const { server, raw, rawLoaded, cores } = r.results[runtime][workload]
        assert.ok(server.median > 0, `${runtime} ${workload} server`)
        assert.ok(raw.median > 0, `${runtime} ${workload} raw`)
        assert.ok(rawLoaded.median > 0, `${runtime} ${workload} raw beside the load`)
        assert.ok(cores.server['load generator'] > 0 && cores.server.server > 0)
        assert.ok(cores.rawLoaded.burner >= 0)
      }
    }
  })

  test('profiles: the read path is profiled on Node and Bun, the library found in both', async () => {
    const [node, bun] = await runProfile(options)
    for (const r of [node, bun]) {
      assert.ok(
        r.categories.some((c) => c.category.startsWith('library:')),
        r.runtime,
      )
      assert.ok(
        r.categories.some((c) => c.category.startsWith('aws4fetch')),
        r.runtime,
      )
    }
  })

  test('per-user sessions: binding a user costs index writes, the tools their calls', async () => {
    const r = await runUsers(options)
    const cost = (what: string) => {
      const found = [...r.requests, ...r.tools].find((c) => c.what === what)
      assert.ok(found, what)
      return found
    }
    const plain = cost('sign-in: regenerate()')
    const bound = cost('sign-in: regenerate({ userId })')
    assert.deepEqual(bound.calls, plain.calls, 'the same calls')
    assert.ok(bound.wcu > plain.wcu, 'the index entry costs a write')
    assert.deepEqual(
      cost('page view, bound').calls,
      { GetItem: 1 },
      'a page view stays one GetItem',
    )
    assert.equal(cost('page view, bound').wcu, 0)
    assert.deepEqual(cost('listSessions(), 3 sessions').calls, { Query: 1 })
    const all = cost('revokeSessions(), 2 sessions')
    assert.equal(all.calls.Query, 2, 'two passes over the index')
    assert.equal(all.calls.PutItem, 2, 'one tombstone each')
    const written = JSON.parse(await readFile(join(options.outDir, 'users.json'), 'utf8'))
    assert.equal(written.tools.length, r.tools.length)
  })
  test('several regions: a page view near a replica skips the home region, writes replicate', async () => {
    const rows = await runRegions(options)
    const view = rows['page view']
    assert.ok(view.global < view.single, `${view.global} ms < ${view.single} ms`)
    assert.ok(rows['page view just after its own change (replica behind)'].global > 100)
    assert.equal(rows.change.wcu, 1)
    assert.equal(rows['page view'].wcu, 0)
  })
})
