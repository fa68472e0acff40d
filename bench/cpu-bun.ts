// Benchmark 2 under Bun: run.ts starts this file with Bun and reads the result file it writes.
import { runCpu } from './cpu.ts'

const [outDir, mode] = process.argv.slice(2)
await runCpu({ smoke: mode === 'smoke', outDir, log: (line) => console.log(line) })
