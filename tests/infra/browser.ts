// Launches a headless Chromium through playwright-core, quiet: no sandbox (tests run as root in
// containers), no background traffic (component updates, sync, QUIC), so it talks only to the
// test servers. The first Chromium found wins:
//
//   1. CHROMIUM_PATH
//   2. a system Chromium or Chrome on the PATH (chromium, chromium-browser, google-chrome…)
//   3. Playwright's own download (~/.cache/ms-playwright or PLAYWRIGHT_BROWSERS_PATH)
//   4. the headless shell inside the npm package @sparticuz/chromium (a devDependency, unpacked
//      to the temporary folder on first use), launched with the flags it ships
//
// so `npm test` needs no apt-get. Secure cookies: Chromium treats http://127.0.0.1 and
// http://localhost as potentially trustworthy, so a `Secure; HttpOnly; SameSite=Lax` cookie set
// over plain http on either host is stored and sent back (checked with Chromium 143 and 156).

import { existsSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'

const SYSTEM_NAMES = [
  'chromium',
  'chromium-browser',
  'google-chrome',
  'google-chrome-stable',
  'chrome',
]

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name)
    if (dir && existsSync(candidate)) return candidate
  }
  return undefined
}

function playwrightCache(): string | undefined {
  const root = process.env.PLAYWRIGHT_BROWSERS_PATH || join(homedir(), '.cache', 'ms-playwright')
  if (!existsSync(root)) return undefined
  const builds = readdirSync(root)
    .filter((d) => /^chromium(_headless_shell)?-\d+$/.test(d))
    .sort((a, b) => Number(b.split('-').pop()) - Number(a.split('-').pop()))
  for (const build of builds) {
    for (const bin of [
      join('chrome-linux', 'chrome'),
      join('chrome-linux', 'headless_shell'),
      join('chrome-headless-shell-linux64', 'chrome-headless-shell'),
      join('chrome-linux64', 'chrome'),
    ]) {
      const candidate = join(root, build, bin)
      if (existsSync(candidate)) return candidate
    }
  }
  return undefined
}

/** Which Chromium the browser test uses, and where it comes from. */
export async function findChromium(): Promise<{ path: string; from: string; args: string[] }> {
  if (process.env.CHROMIUM_PATH) {
    if (!existsSync(process.env.CHROMIUM_PATH)) {
      throw new Error(`CHROMIUM_PATH is set to ${process.env.CHROMIUM_PATH}, which does not exist`)
    }
    return { path: process.env.CHROMIUM_PATH, from: 'CHROMIUM_PATH', args: [] }
  }
  for (const name of SYSTEM_NAMES) {
    const path = onPath(name)
    if (path) return { path, from: 'the PATH', args: [] }
  }
  const cached = playwrightCache()
  if (cached) return { path: cached, from: "Playwright's cache", args: [] }
  const { default: sparticuz } = await import('@sparticuz/chromium')
  return {
    path: await sparticuz.executablePath(),
    from: 'the npm package @sparticuz/chromium',
    // --single-process (for AWS Lambda) ends the whole browser when one context closes, and
    // the test opens and closes several.
    args: sparticuz.args.filter((arg) => arg !== '--single-process'),
  }
}

export async function launchBrowser(): Promise<Browser> {
  const found = await findChromium()
  return chromium.launch({
    executablePath: found.path,
    headless: true,
    args: [
      ...found.args,
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      // Resolve nothing but the loopback names: Chromium otherwise still looks up
      // update.googleapis.com and accounts.google.com despite the flags above.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
    ],
  })
}
