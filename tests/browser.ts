// Launches the system Chromium (Debian's `chromium` package, /usr/bin/chromium) through
// playwright-core, headless and quiet: no sandbox (tests run as root in containers), no
// background traffic (component updates, sync, QUIC), so it talks only to the test servers.
//
// Secure cookies: Chromium treats http://127.0.0.1 and http://localhost as potentially
// trustworthy, so a `Secure; HttpOnly; SameSite=Lax` cookie set over plain http on either
// host is stored and sent back (checked with Chromium 156).

import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

export const CHROMIUM_PATH: string = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install it with ` +
        '`DEBIAN_FRONTEND=noninteractive apt-get install -y chromium` or set CHROMIUM_PATH',
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
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
