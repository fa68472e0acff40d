/**
 * @module The load phase: which session the request's cookies name. Every session cookie is a
 * candidate, in order; the first that verifies and names a live session wins. Unreadable or
 * schema-failing data is no session (reported).
 */
import { isWellFormedId, readCookies, storedKey } from './cookie.ts'
import { asSessionError, DynamoSessionError } from './errors.ts'
import type { RequestContext } from './request.ts'
import type { Found } from './rules.ts'
import { type ItemState, parseItem, type StoredSession } from './store/item.ts'
import { Lease, releaseLease, waitForLease } from './store/lease.ts'
import { getItem } from './store/store.ts'
import { newStamp } from './store/tokens.ts'

/** What the load phase hands the handler and the save. */
export interface Loaded {
  found: Found
  /** What handlers see of the data: the schema's output, when there is a schema. */
  view?: Record<string, unknown>
  /** The lease this request holds, with `locking`. */
  lease?: Lease
}

/** Runs the schema on stored data; throws INVALID_DATA when it fails. */
async function validate(
  schema: NonNullable<RequestContext['s']['schema']>,
  stored: StoredSession,
): Promise<Record<string, unknown>> {
  const result = await schema['~standard'].validate(structuredClone(stored.data))
  if (result.issues) {
    throw new DynamoSessionError(
      'INVALID_DATA',
      `stored data fails the schema: ${result.issues.map((i) => i.message).join('; ')}`,
    )
  }
  return result.value as Record<string, unknown>
}

/** Reads one candidate's item: a consistent GetItem, or with `locking` the lease taken with it. */
async function read(
  r: RequestContext,
  key: string,
): Promise<{ item: Record<string, unknown> | undefined; lease?: Lease }> {
  const table = await r.table()
  if (!r.s.locking) return { item: await getItem(table, key, r.s.consistentRead) }
  const { token } = newStamp()
  const { item, held } = await waitForLease(table, key, token, r.s.locking, r.background)
  return { item, lease: held ? new Lease(key, token) : undefined }
}

/** The load phase. */
export async function loadSession(r: RequestContext, header: string | undefined): Promise<Loaded> {
  let ended: number | undefined
  for (const raw of readCookies(header, r.s.cookie.name)) {
    const id = r.signer ? await r.signer.verify(raw) : isWellFormedId(raw) ? raw : null
    if (!id) continue
    const key = await storedKey(id)
    const { item, lease } = await read(r, key)
    let found: ItemState
    let view: Record<string, unknown> | undefined
    try {
      found = parseItem(item, r.now)
      if (found.state === 'live') {
        if (found.session.created + r.s.absoluteMaxAge <= r.now) found = { state: 'absent' }
        else if (r.s.schema) view = await validate(r.s.schema, found.session)
      }
    } catch (error) {
      found = { state: 'absent' }
      await r.report(asSessionError(error, 'INVALID_DATA'))
    }
    if (found.state === 'live') {
      return { found: { state: 'live', id, key, stored: found.session }, view, lease }
    }
    if (found.state === 'ended') ended = Math.max(ended ?? 0, found.at)
    // Not a live session: its lease goes back at once.
    if (lease) await releaseLease(await r.table(), key, lease.token)
  }
  return { found: { state: 'none', ended } }
}
