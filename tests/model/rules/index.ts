// The reference model: every rule of docs/guarantees.md the model checks, run over one record.
import type { RunRecord } from '../record.ts'
import { changesStayVisible, changesStayWithTheirBrowser, incrementsCountExactly } from './data.ts'
import { endedSessionsNeverComeBack, oneEndWins, staleRequestsKeepNewerCookies } from './ends.ts'
import { factsOf, type Violation } from './facts.ts'
import { leasesAreGivenBack, noOrphans } from './final.ts'
import {
  flashIsDeliveredAtMostOnce,
  flashIsNeverReplacedByAnOlderValue,
  flashIsNotLost,
  flashValuesComeFromTheirSession,
} from './flash.ts'
import {
  changesAreRefusedOnlyWithinTheGrace,
  changesThroughAGracedCookieAreRefused,
  signInAndOutAlwaysWork,
} from './lifecycle.ts'
import {
  browsersSeeOnlyTheirOwn,
  cookiesFitTheRequest,
  failuresSetNoCookie,
  statusesAreDocumented,
} from './responses.ts'

export type { Violation }

const RULES = [
  statusesAreDocumented,
  failuresSetNoCookie,
  cookiesFitTheRequest,
  browsersSeeOnlyTheirOwn,
  signInAndOutAlwaysWork,
  changesAreRefusedOnlyWithinTheGrace,
  changesThroughAGracedCookieAreRefused,
  endedSessionsNeverComeBack,
  oneEndWins,
  staleRequestsKeepNewerCookies,
  changesStayVisible,
  changesStayWithTheirBrowser,
  incrementsCountExactly,
  flashValuesComeFromTheirSession,
  flashIsDeliveredAtMostOnce,
  flashIsNeverReplacedByAnOlderValue,
  flashIsNotLost,
  noOrphans,
  leasesAreGivenBack,
]

/** What the run did that the guarantees do not allow. */
export function violations(record: RunRecord): Violation[] {
  const facts = factsOf(record)
  return RULES.flatMap((rule) => rule(facts))
}
