/**
 * @module The context of one request, shared by its load and save phases: the settings, the
 * request's time, its cookie signer, its table (connected on first use, with the request's time
 * budget) and where non-fatal errors are reported.
 */
import type { RequestTable } from './connection.ts'
import type { CookieSigner } from './cookie.ts'
import type { DynamoSessionError } from './errors.ts'
import type { JsonValue } from './marshall.ts'
import type { Settings } from './settings.ts'

/** What the load and save phases of one request share. */
export interface RequestContext {
  readonly s: Settings
  /** The request's time, in epoch seconds: every rule of this request uses this one. */
  readonly now: number
  /** Signs and verifies the cookie, when a secret is set. */
  readonly signer: CookieSigner | undefined
  /** The table, connected on first use; its calls share the request's budget. */
  table(): Promise<RequestTable>
  /** Reports an error that does not fail the request (unreadable data, a failed touch). */
  report(error: DynamoSessionError): Promise<void>
  /** Keeps work going after the response (the runtime's `waitUntil` where there is one). */
  background(work: Promise<unknown>): void
  /** What `describe(c)` says of the browser, for a session bound to a user. */
  device(): JsonValue | undefined
  /** How long write tokens are kept (`tokenKeepMs` of the retry budget). */
  readonly keepMs: number
}
