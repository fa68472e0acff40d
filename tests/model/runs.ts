// How much of the model `npm test` runs: a fixed seed and number of histories per backend, for
// each of locking off and on, chosen to stay within about a minute per backend on two cores.
// The mutation checks run the same seeds: a broken DynamoDB must be caught within them.
import type { Backend } from './backends.ts'

/** The seed of every fixed run (the issue the model was written for). */
export const SEED = 18

/** Histories per fixed run, by backend. */
export const RUNS: Record<Backend['name'], number> = { memory: 150, 'dynamodb-local': 80 }
