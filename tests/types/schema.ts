// The `schema` option is a Standard Schema whose output fits `Data` (keys may be missing).
import { Hono } from 'hono'
import { z } from 'zod'
import * as zm from 'zod/mini'
import {
  type DynamoSessionOptions,
  dynamoSession,
  type SessionEnv,
  type StandardSchemaV1,
} from '../../src/index.ts'
import type { Equal } from './helpers.ts'
import { expect } from './helpers.ts'

type Data = { userId: string; cart: string[]; visits: number }

// zod 4 (classic and mini): every key, some keys, optional keys, transforms to the key's type.
dynamoSession<Data>({
  schema: z.object({ userId: z.string(), cart: z.array(z.string()), visits: z.number() }),
})
dynamoSession<Data>({ schema: z.object({ userId: z.string() }) })
dynamoSession<Data>({
  schema: z.object({ userId: z.string().optional(), cart: z.array(z.string()).optional() }),
})
dynamoSession<Data>({ schema: z.object({ visits: z.coerce.number() }) })
dynamoSession<Data>({ schema: z.object({ userId: z.string() }).loose() })
dynamoSession<Data>({ schema: z.object({ userId: z.string() }).strict() })
dynamoSession<Data>({ schema: z.object({ cart: z.string().transform((s) => s.split(',')) }) })
dynamoSession<Data>({ schema: zm.object({ userId: zm.string(), visits: zm.number() }) })
dynamoSession<Data>({ schema: zm.partial(zm.object({ userId: zm.string() })) })
dynamoSession({ schema: z.record(z.string(), z.unknown()) })

// A schema given through an options object typed for Data.
const options: DynamoSessionOptions<Data> = { schema: z.object({ userId: z.string() }) }
dynamoSession<Data>(options)

// A hand-written Standard Schema.
const handMade: StandardSchemaV1<unknown, Partial<Data>> = {
  '~standard': {
    version: 1,
    vendor: 'app',
    validate: (value) =>
      typeof value === 'object' && value !== null
        ? { value: value as Partial<Data> }
        : { issues: [{ message: 'not an object' }] },
  },
}
dynamoSession<Data>({ schema: handMade })

// Refused: an output that does not fit Data.
// @ts-expect-error The types of 'value.userId' are incompatible
dynamoSession<Data>({ schema: z.object({ userId: z.number() }) })
// @ts-expect-error has no properties in common with type 'PartialData<Data>'
dynamoSession<Data>({ schema: z.object({ user: z.string() }) })
// @ts-expect-error The types of 'value.cart' are incompatible
dynamoSession<Data>({ schema: z.object({ cart: z.string() }) })
// A transform to a Date: handlers would see a value the session cannot store.
// @ts-expect-error The types of 'value.userId' are incompatible
dynamoSession<Data>({ schema: z.object({ userId: z.coerce.date() }) })
// @ts-expect-error is not assignable to type 'StandardSchemaV1<unknown, PartialData<Data>>'
dynamoSession<Data>({ schema: z.string() })
// @ts-expect-error The types of 'value.userId' are incompatible
dynamoSession<Data>({ schema: zm.object({ userId: zm.number() }) })
// @ts-expect-error 'parse' does not exist in type 'StandardSchemaV1
dynamoSession<Data>({ schema: { parse: () => ({}) } })
// @ts-expect-error The types of 'value.userId' are incompatible
export const wrong: DynamoSessionOptions<Data> = { schema: z.object({ userId: z.boolean() }) }

// Without type arguments, the schema's output gives the session its type.
const app = new Hono().use(
  dynamoSession({ schema: z.object({ userId: z.string(), visits: z.number() }) }),
)
app.get('/', (c) => {
  const session = c.get('session')
  expect<Equal<ReturnType<typeof session.get<'visits'>>, number | undefined>>()
  session.increment('visits')
  // @ts-expect-error Argument of type '"userId"' is not assignable
  session.increment('userId')
  return c.text('ok')
})
// A schema whose output is not JSON cannot type a session.
// @ts-expect-error The types of 'value.at' are incompatible
dynamoSession({ schema: z.object({ at: z.date() }) })

// The session env of an app with a schema is the same with or without the type argument.
const typed = new Hono<SessionEnv<Data>>()
typed.use(dynamoSession<Data>({ schema: z.object({ userId: z.string() }) }))
