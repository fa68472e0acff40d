/**
 * @module Routes a DynamoDB JSON API request (`X-Amz-Target: DynamoDB_20120810.<Op>`) to its
 * operation and answers as DynamoDB does: a JSON body, status 400 with `__type` and `Message`
 * for an error.
 */

import { hasInvalidBinary } from './base64.ts'
import { BatchWriteItem, TransactWriteItems } from './batches.ts'
import type { Database } from './database.ts'
import { DDB, DynamoError, internalFailure } from './errors.ts'
import { DeleteItem, GetItem, PutItem, UpdateItem } from './items.ts'
import { Query } from './query.ts'
import { Scan } from './scan.ts'
import { CreateTable, DeleteTable, DescribeTable, ListTables, UpdateTable } from './tables.ts'
import { DescribeTimeToLive, UpdateTimeToLive } from './ttl.ts'
import type { Input } from './values.ts'

type Operation = (db: Database, input: Input) => unknown

const operations: Record<string, Operation> = {
  CreateTable,
  DescribeTable,
  DeleteTable,
  ListTables,
  UpdateTimeToLive,
  DescribeTimeToLive,
  GetItem,
  PutItem,
  UpdateItem,
  DeleteItem,
  TransactWriteItems,
  BatchWriteItem,
  Scan,
  Query,
  UpdateTable,
}

/** The operation an `X-Amz-Target` header names, refused as DynamoDB Local refuses it. */
function route(target: string | null): Operation {
  if (!target) throw internalFailure()
  if (!target.startsWith('DynamoDB_20120810.')) {
    throw new DynamoError(
      `${DDB}InvalidAction`,
      'The action or operation requested is invalid. Verify that the action is typed correctly.',
    )
  }
  const name = target.slice(18)
  const run = Object.hasOwn(operations, name) ? operations[name] : undefined
  if (!run)
    throw new DynamoError(`${DDB}UnknownOperationException`, 'An unknown operation was requested.')
  return run
}

function parse(text: string): Input {
  let input: unknown
  try {
    input = text ? JSON.parse(text) : {}
  } catch {
    throw new DynamoError(
      'com.amazon.coral.service#SerializationException',
      'Start of structure or map found where not expected.',
    )
  }
  if (!input || typeof input !== 'object') return {}
  if (hasInvalidBinary(input)) throw internalFailure()
  return input as Input
}

/** Answers one request from the database. */
export async function handle(db: Database, request: Request): Promise<Response> {
  const text = await request.text()
  let status = 200
  let body: unknown
  try {
    const run = route(request.headers.get('x-amz-target'))
    body = run(db, parse(text))
  } catch (error) {
    if (!(error instanceof DynamoError)) throw error
    status = error.status
    body = { __type: error.type, Message: error.message, ...error.extra }
  }
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': crypto.randomUUID(),
    },
  })
}
