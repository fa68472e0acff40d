// The README's chart, drawn as plain SVG from the result files: CPU overhead per request and the
// bytes added to a Worker, ours against the baselines. No charting dependency.
import type { CpuResult } from './cpu.ts'
import type { SizeResult } from './size.ts'

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

interface Bar {
  label: string
  value: number
  ours?: boolean
}

/** One horizontal bar panel; returns its SVG and height. */
function panel(
  title: string,
  unit: string,
  bars: Bar[],
  y0: number,
  target?: { value: number; label: string },
): { svg: string; height: number } {
  const left = 250
  const width = 420
  const rowHeight = 26
  const max = Math.max(...bars.map((b) => b.value), target?.value ?? 0) * 1.08
  const x = (v: number) => left + (v / max) * width
  const parts = [
    `<text x="16" y="${y0 + 18}" font-size="15" font-weight="bold">${xml(title)}</text>`,
  ]
  bars.forEach((bar, i) => {
    const y = y0 + 34 + i * rowHeight
    parts.push(
      `<text x="${left - 8}" y="${y + 14}" text-anchor="end" font-size="12">${xml(bar.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${Math.max(1, x(bar.value) - left).toFixed(1)}" height="18" fill="${bar.ours ? '#e36209' : '#8c959f'}"/>`,
      `<text x="${(x(bar.value) + 6).toFixed(1)}" y="${y + 14}" font-size="12">${bar.value.toFixed(bar.value < 100 ? 1 : 0)} ${unit}</text>`,
    )
  })
  const bottom = y0 + 34 + bars.length * rowHeight
  if (target) {
    const tx = x(target.value).toFixed(1)
    parts.push(
      `<line x1="${tx}" y1="${y0 + 28}" x2="${tx}" y2="${bottom}" stroke="#cf222e" stroke-dasharray="4 3"/>`,
      `<text x="${tx}" y="${bottom + 14}" text-anchor="middle" font-size="11" fill="#cf222e">${xml(target.label)}</text>`,
    )
  }
  return { svg: parts.join('\n'), height: bottom - y0 + (target ? 26 : 10) }
}

function cpuBars(cpu: CpuResult): Bar[] {
  const o = (scenario: keyof CpuResult['overhead']) => cpu.overhead[scenario]
  return (['read-only session', 'changed session'] as const).flatMap((scenario) =>
    [
      { label: `${scenario}: ours`, value: o(scenario)['ours (aws4fetch)'], ours: true },
      { label: `${scenario}: SDK baseline`, value: o(scenario)['SDK baseline'] },
      {
        label: `${scenario}: architect/functions`,
        value: o(scenario)['architect/functions (aws-lite)'],
      },
      {
        label: `${scenario}: @hono/session (cookie)`,
        value: o(scenario)['@hono/session (cookie only)'],
      },
      {
        label: `${scenario}: hono-sessions (enc.)`,
        value: o(scenario)['hono-sessions, memory, encrypted id'],
      },
      {
        label: `${scenario}: hono-sessions (plain)`,
        value: o(scenario)['hono-sessions, memory, plain id'],
      },
      // Result files from before a candidate was added lack it.
    ].filter((bar) => typeof bar.value === 'number'),
  )
}

export function chart(cpu: CpuResult, size: SizeResult, cpuBun?: CpuResult): string {
  const title = (c: CpuResult) =>
    `CPU per request over Hono alone (${c.runtime}, µs, lower is better)`
  const a = panel(title(cpu), 'µs', cpuBars(cpu), 10)
  const bun = cpuBun ? panel(title(cpuBun), 'µs', cpuBars(cpuBun), 20 + a.height) : undefined
  const below = 20 + a.height + (bun ? bun.height + 10 : 0)
  const sizeBars: Bar[] = [
    {
      label: 'ours (dynamoSession)',
      value: size.addedGzip['ours (dynamoSession)'] / 1024,
      ours: true,
    },
    { label: 'SDK baseline', value: size.addedGzip['SDK baseline'] / 1024 },
  ]
  const cookie = size.addedGzip['@hono/session (cookie only)']
  if (cookie !== undefined) sizeBars.push({ label: '@hono/session (cookie)', value: cookie / 1024 })
  const b = panel(
    'Added to a Hono Worker (esbuild, minified, gzip -9, KB; Architect does not bundle for one)',
    'KB',
    sizeBars,
    below,
    { value: 12.5, label: 'ceiling 12.5 KB' },
  )
  const height = below + b.height + 10
  return `<svg xmlns="http://www.w3.org/2000/svg" width="760" height="${height}" viewBox="0 0 760 ${height}" font-family="system-ui, sans-serif" role="img" aria-labelledby="title">
<title id="title">CPU per request and bundle size of @dynamo-session/hono against the AWS SDK baseline and other session stores</title>
<rect width="100%" height="100%" fill="#ffffff"/>
${a.svg}
${bun?.svg ?? ''}
${b.svg}
</svg>
`
}
