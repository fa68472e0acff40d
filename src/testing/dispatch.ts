/**
 * @module Routes a DynamoDB JSON API request (`X-Amz-Target: DynamoDB_20120810.<Op>`) to its
 * operation and answers as DynamoDB does: a JSON body, status 400 with `__type` and `Message`
 * for an error.
 */

import { hasInvalidBinary } from './base64.ts'
import { BatchWriteItem, TransactWriteItems } from './batches.ts'
import type { Database } from './database.ts'
import { DynamoError, internalFailure } from './errors.ts'
import { DeleteItem, GetItem, PutItem, UpdateItem } from './items.ts'
import { Scan } from './scan.ts'
import {
  CreateTable,
  DeleteTable,
  DescribeTable,
  DescribeTimeToLive,
  ListTables,
  UpdateTimeToLive,
} from './tables.ts'
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
}

/** Answers one request from the database. */
export async function handle(db: Database, request: Request): Promise<Response> {
  const target = request.headers.get('x-amz-target') ?? ''
  const operation = target.startsWith('DynamoDB_20120810.') ? target.slice(18) : ''
  const text = await request.text()
  let status = 200
  let body: unknown
  try {
    const run = Object.hasOwn(operations, operation) ? operations[operation] : undefined
    if (!run) {
      throw new DynamoError('com.amazon.coral.service#UnknownOperationException', '')
    }
    let input: Input
    try {
      input = text ? JSON.parse(text) : {}
    } catch {
      throw new DynamoError(
        'com.amazon.coral.service#SerializationException',
        'Start of structure or map found where not expected.',
      )
    }
    if (!input || typeof input !== 'object') input = {}
    if (hasInvalidBinary(input)) throw internalFailure()
    body = run(db, input)
  } catch (error) {
    if (!(error instanceof DynamoError)) throw error
    status = error.status
    body = { __type: error.type, Message: error.message, ...error.extra }
    if (error.type.endsWith('UnknownOperationException')) body = { __type: error.type }
  }
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': crypto.randomUUID(),
    },
  })
}
