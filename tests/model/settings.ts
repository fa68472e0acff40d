// The session settings of every model run, where the middleware, the network and the rules meet.

/** The session settings of every run; time is virtual, so these cost no real time. */
export const SETTINGS = {
  maxAge: 3600,
  retry: { attempts: 4, timeoutMs: 40, budgetMs: 400 },
  locking: { leaseMs: 1000, waitMs: 300 },
} as const
