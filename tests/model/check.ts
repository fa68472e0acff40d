// The model test as a fast-check property: a random history (tests/model/history.ts) and a random
// scheduler run against the real middleware (runner.ts), every answer judged by the reference
// model (rules/). A failure is shrunk to a smaller history and reported as a readable replay:
// the seed and path that replay it exactly, the history, what broke which rule, and the trace.
import fc from 'fast-check'
import type { Backend } from './backends.ts'
import { describeHistory, type History, histories } from './history.ts'
import type { Mutation } from './mutations.ts'
import type { RunRecord } from './record.ts'
import { type Violation, violations } from './rules/index.ts'
import { runHistory } from './runner.ts'

/** The size of the histories: up to 3 browsers of up to 4 tabs of up to 5 requests. */
export const SIZE = { browsers: 3, tabs: 4, commands: 5 }

export interface ModelOptions {
  backend: Backend
  locking: boolean
  mutation: Mutation
  runs: number
  seed: number
  /** fast-check's replay path of a failure, to run that one case only. */
  path?: string
  /** Shrink a failure to a smaller history (slower); otherwise report the first failing one. */
  shrink: boolean
  /** Told after each history. */
  progress?: (runs: number) => void
}

export interface ModelResult {
  failed: boolean
  /** How many histories ran, shrinking included. */
  runs: number
  /** The violations of the reported history. */
  violations: Violation[]
  /** The readable replay of the failure, or a one-line summary. */
  report: string
}

/** The run that last failed: during shrinking, the smallest history found so far. */
interface Failure {
  history: History
  record?: RunRecord
  violations: Violation[]
  error?: unknown
}

const formatViolation = (x: Violation) =>
  `  ${x.n === undefined ? '' : `#${x.n} `}[${x.rule}] ${x.message}`

function replay(
  o: ModelOptions,
  details: { seed: number; counterexamplePath: string | null },
  failure: Failure,
): string {
  const mode = `--backend ${o.backend.name === 'memory' ? 'memory' : 'local'} --locking ${o.locking ? 'on' : 'off'}${o.mutation === 'none' ? '' : ` --mutation ${o.mutation}`}`
  const lines = [
    `model test failed on ${o.backend.name}, locking ${o.locking ? 'on' : 'off'}${o.mutation === 'none' ? '' : `, mutation ${o.mutation}`}`,
    `seed ${details.seed}, path ${details.counterexamplePath}: replay with`,
    `  npm run model -- ${mode} --seed ${details.seed} --path ${details.counterexamplePath}`,
    `history${o.shrink ? ' (shrunk)' : ''}:`,
    describeHistory(failure.history).replace(/^/gm, '  '),
  ]
  if (failure.error)
    lines.push(`the run failed: ${(failure.error as Error)?.stack ?? failure.error}`)
  if (failure.violations.length)
    lines.push('violations:', ...failure.violations.map(formatViolation))
  if (failure.record)
    lines.push(
      'trace (#n: request number; → a DynamoDB call; ← an answer):',
      ...failure.record.trace,
    )
  return lines.join('\n')
}

/** Runs the property; never throws for a violation, it reports it. */
export async function checkModel(o: ModelOptions): Promise<ModelResult> {
  let failure: Failure | undefined
  let runs = 0
  const property = fc.asyncProperty(histories(SIZE), fc.scheduler(), async (history, s) => {
    runs++
    let record: RunRecord | undefined
    const conn = await o.backend.table()
    try {
      record = await runHistory(history, s, {
        backend: o.backend,
        conn,
        locking: o.locking,
        mutation: o.mutation,
      })
    } catch (error) {
      failure = { history, violations: [], error }
      return false
    } finally {
      await o.backend.drop(conn)
    }
    const found = violations(record)
    if (found.length) failure = { history, record, violations: found }
    o.progress?.(runs)
    return found.length === 0
  })
  const details = await fc.check(property, {
    numRuns: o.runs,
    seed: o.seed,
    path: o.path,
    endOnFailure: !o.shrink,
  })
  if (!details.failed || !failure) {
    const error = details.failed ? `fast-check failed: ${String(details.errorInstance)}` : ''
    return {
      failed: details.failed,
      runs,
      violations: [],
      report: error || `${runs} histories kept every rule`,
    }
  }
  return { failed: true, runs, violations: failure.violations, report: replay(o, details, failure) }
}
