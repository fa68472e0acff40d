// DynamoDB requests whose answers the in-memory DynamoDB (src/testing/) must give exactly as
// DynamoDB Local does: tests/suite/emulator.test.ts sends each case to the suite's backend and,
// where that is DynamoDB Local, to a fresh memoryDynamoDB() as well, and compares the answers.

type Json = Record<string, unknown>

/** One case: requests sent in order to a new table `T` (hash key `id`, S); the last answer counts. */
export interface EmulatorCase {
  name: string
  /** Operation and input; the string `T` as TableName is replaced by the case's table. */
  steps: [string, Json][]
  /** What the last answer must contain: status, and for errors the type and message. */
  status: number
  type?: string
  message?: string | RegExp
  /** Fields of the last answer's body to compare (all of them when absent). */
  body?: Json
}

const item = {
  id: { S: 'a' },
  n: { N: '1' },
  s: { S: 'hello' },
  m: { M: { x: { S: 'y' }, w: { N: '2' } } },
  l: { L: [{ N: '1' }, { S: 's' }, { N: '3' }] },
  ss: { SS: ['a', 'b'] },
  ns: { NS: ['1', '2'] },
  b: { B: 'AAEC' },
  bo: { BOOL: true },
  nu: { NULL: true },
}
const key = { id: { S: 'a' } }
const put: [string, Json] = ['PutItem', { TableName: 'T', Item: item }]
const update = (input: Json): [string, Json] => [
  'UpdateItem',
  { TableName: 'T', Key: key, ...input },
]
const cond = (ConditionExpression: string, values?: Json, names?: Json): [string, Json] => [
  'PutItem',
  {
    TableName: 'T',
    Item: item,
    ConditionExpression,
    ...(values ? { ExpressionAttributeValues: values } : {}),
    ...(names ? { ExpressionAttributeNames: names } : {}),
  },
]
const V = 'ValidationException'
const CCF = 'ConditionalCheckFailedException'

export const CASES: EmulatorCase[] = [
  // Conditions that hold
  {
    name: 'a condition with every comparator and function holds',
    steps: [
      put,
      cond(
        'n = :one AND begins_with(s, :he) AND contains(ss, :a) AND contains(l, :one) AND size(l) = :three AND size(s) > :one AND attribute_type(m, :M) AND m.x IN (:y, :a) AND n BETWEEN :one AND :three AND NOT (n <> :one) AND l[1] = :s AND (n < :three OR n > :three) AND n <= :one AND n >= :one AND attribute_exists(m.w) AND attribute_not_exists(m.zz) AND contains(s, :ell) AND nu = :nul AND bo = :t AND b = :b',
        {
          ':one': { N: '1' },
          ':three': { N: '3.0' },
          ':he': { S: 'he' },
          ':a': { S: 'a' },
          ':M': { S: 'M' },
          ':y': { S: 'y' },
          ':s': { S: 's' },
          ':ell': { S: 'ell' },
          ':nul': { NULL: true },
          ':t': { BOOL: true },
          ':b': { B: 'AAEC' },
        },
      ),
    ],
    status: 200,
    body: {},
  },
  {
    name: 'a comparison of a number with a string is false, not an error',
    steps: [put, cond('n > :s', { ':s': { S: 's' } })],
    status: 400,
    type: CCF,
    message: 'The conditional request failed',
  },
  {
    name: 'size() of a number is false, not an error',
    steps: [put, cond('size(n) > :one', { ':one': { N: '1' } })],
    status: 400,
    type: CCF,
  },
  {
    name: 'a failed condition returns the old item with ReturnValuesOnConditionCheckFailure ALL_OLD',
    steps: [
      put,
      [
        'PutItem',
        {
          TableName: 'T',
          Item: { id: { S: 'a' } },
          ConditionExpression: 'attribute_not_exists(id)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      ],
    ],
    status: 400,
    type: CCF,
    body: { Item: item },
  },
  // Condition validation
  {
    name: 'BETWEEN with bounds in the wrong order is refused',
    steps: [put, cond('n BETWEEN :three AND :one', { ':one': { N: '1' }, ':three': { N: '3' } })],
    status: 400,
    type: V,
    message:
      'Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:3}, upper bound operand: AttributeValue: {N:1}',
  },
  {
    name: 'attribute_type with an unknown type is refused',
    steps: [put, cond('attribute_type(m, :X)', { ':X': { S: 'XX' } })],
    status: 400,
    type: V,
    message:
      'Invalid ConditionExpression: Invalid attribute type name found; type: XX, valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}',
  },
  {
    name: 'begins_with of a number value is refused',
    steps: [put, cond('begins_with(n, :one)', { ':one': { N: '1' } })],
    status: 400,
    type: V,
    message:
      'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N',
  },
  {
    name: 'comparing a path with itself is refused',
    steps: [put, cond('n = n')],
    status: 400,
    type: V,
    message:
      'Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [n]',
  },
  {
    name: 'attribute_exists of a value is refused',
    steps: [put, cond('attribute_exists(:s)', { ':s': { S: 's' } })],
    status: 400,
    type: V,
    message:
      'Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists',
  },
  {
    name: 'a condition ending in AND is a syntax error',
    steps: [put, cond('n = :one AND', { ':one': { N: '1' } })],
    status: 400,
    type: V,
    message: 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND"',
  },
  {
    name: 'an empty condition is refused',
    steps: [put, cond('', { ':one': { N: '1' } })],
    status: 400,
    type: V,
    message: 'Invalid ConditionExpression: The expression can not be empty;',
  },
  {
    name: 'an unknown function is refused',
    steps: [put, cond('foo(n)')],
    status: 400,
    type: V,
    message: 'Invalid ConditionExpression: Invalid function name; function: foo',
  },
  {
    name: 'an unused expression attribute name is refused',
    steps: [put, cond('n = :one', { ':one': { N: '1' } }, { '#x': 'x' })],
    status: 400,
    type: V,
    message: 'Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}',
  },
  {
    name: 'an undefined expression attribute name is refused',
    steps: [put, cond('#x = :one', { ':one': { N: '1' } })],
    status: 400,
    type: V,
    message:
      'Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #x',
  },
  {
    name: 'a reserved word as a name is refused',
    steps: [
      put,
      update({
        UpdateExpression: 'SET data = :one',
        ExpressionAttributeValues: { ':one': { N: '7' } },
      }),
    ],
    status: 400,
    type: V,
    message:
      'Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: data',
  },
  // Updates
  {
    name: 'SET into nested maps and lists, with arithmetic, if_not_exists and list_append',
    steps: [
      put,
      update({
        UpdateExpression:
          'SET #a.#b = :v, l[1] = :v, l[9] = :w, n = n + :v, c = if_not_exists(c, :w) - :v, s2 = if_not_exists(s, :w), l2 = list_append(:l, l) REMOVE m.x, ss ADD ns :ns, cnt :v DELETE nn :nn',
        ExpressionAttributeNames: { '#a': 'm', '#b': 'z' },
        ExpressionAttributeValues: {
          ':v': { N: '5' },
          ':w': { N: '0.25' },
          ':l': { L: [{ S: 'first' }] },
          ':ns': { NS: ['3', '1'] },
          ':nn': { NS: ['9'] },
        },
        ReturnValues: 'ALL_NEW',
      }),
    ],
    status: 200,
  },
  {
    name: 'UPDATED_OLD and UPDATED_NEW return the top-level attributes of updated paths',
    steps: [
      put,
      update({
        UpdateExpression: 'SET l[0] = :v, m.x = :v',
        ExpressionAttributeValues: { ':v': { N: '5' } },
        ReturnValues: 'UPDATED_OLD',
      }),
    ],
    status: 200,
  },
  {
    name: 'UPDATED_NEW leaves out paths that do not exist afterwards',
    steps: [
      put,
      update({
        UpdateExpression: 'SET l[9] = :v REMOVE m.w',
        ExpressionAttributeValues: { ':v': { N: '5' } },
        ReturnValues: 'UPDATED_NEW',
      }),
    ],
    status: 200,
  },
  {
    name: 'REMOVE of several list elements uses the indexes before the update',
    steps: [
      put,
      update({
        UpdateExpression: 'REMOVE l[0], l[2], l[7], m.zz, nothere',
        ReturnValues: 'ALL_NEW',
      }),
    ],
    status: 200,
  },
  {
    name: 'an update of a missing item creates it',
    steps: [
      update({
        UpdateExpression: 'SET v = if_not_exists(v, :zero) + :one',
        ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' } },
        ReturnValues: 'ALL_NEW',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    ],
    status: 200,
  },
  {
    name: 'an UpdateItem without an UpdateExpression creates the item with its key alone',
    steps: [update({ ReturnValues: 'ALL_NEW' })],
    status: 200,
  },
  {
    name: 'SET under a missing map is an invalid document path',
    steps: [
      put,
      update({
        UpdateExpression: 'SET #a.#b.c = :v',
        ExpressionAttributeNames: { '#a': 'm', '#b': 'q' },
        ExpressionAttributeValues: { ':v': { N: '5' } },
      }),
    ],
    status: 400,
    type: V,
    message: 'The document path provided in the update expression is invalid for update',
  },
  {
    name: 'SET under a string is an invalid document path',
    steps: [
      put,
      update({ UpdateExpression: 'SET s.x = :v', ExpressionAttributeValues: { ':v': { S: '5' } } }),
    ],
    status: 400,
    type: V,
    message: 'The document path provided in the update expression is invalid for update',
  },
  {
    name: 'REMOVE under a missing attribute is an invalid document path',
    steps: [put, update({ UpdateExpression: 'REMOVE nothere.x', ReturnValues: 'ALL_NEW' })],
    status: 400,
    type: V,
    message: 'The document path provided in the update expression is invalid for update',
  },
  {
    name: 'REMOVE under a string is an invalid document path',
    steps: [put, update({ UpdateExpression: 'REMOVE s.x', ReturnValues: 'ALL_NEW' })],
    status: 400,
    type: V,
    message: 'The document path provided in the update expression is invalid for update',
  },
  {
    name: 'REMOVE of a list index in a map is an invalid document path',
    steps: [put, update({ UpdateExpression: 'REMOVE m[0]', ReturnValues: 'ALL_NEW' })],
    status: 400,
    type: V,
    message: 'The document path provided in the update expression is invalid for update',
  },
  {
    name: 'ADD under a missing attribute is an invalid document path',
    steps: [
      put,
      update({
        UpdateExpression: 'ADD nothere.x :v',
        ExpressionAttributeValues: { ':v': { N: '1' } },
        ReturnValues: 'ALL_NEW',
      }),
    ],
    status: 400,
    type: V,
    message: 'The document path provided in the update expression is invalid for update',
  },
  {
    name: 'DELETE under a missing attribute is an invalid document path',
    steps: [
      put,
      update({
        UpdateExpression: 'DELETE nothere.x :v',
        ExpressionAttributeValues: { ':v': { NS: ['1'] } },
        ReturnValues: 'ALL_NEW',
      }),
    ],
    status: 400,
    type: V,
    message: 'The document path provided in the update expression is invalid for update',
  },
  {
    name: 'DELETE from a string is an operand of the wrong type',
    steps: [
      put,
      update({
        UpdateExpression: 'DELETE s :v',
        ExpressionAttributeValues: { ':v': { SS: ['1'] } },
        ReturnValues: 'ALL_NEW',
      }),
    ],
    status: 400,
    type: V,
    message: 'An operand in the update expression has an incorrect data type',
  },
  {
    name: 'DELETE of a missing set does nothing',
    steps: [
      put,
      update({
        UpdateExpression: 'DELETE nothere :v',
        ExpressionAttributeValues: { ':v': { SS: ['1'] } },
        ReturnValues: 'ALL_NEW',
      }),
    ],
    status: 200,
  },
  {
    name: 'SET past the end of a list appends, in order',
    steps: [
      put,
      update({
        UpdateExpression: 'SET l[5] = :v, l[6] = :w',
        ExpressionAttributeValues: { ':v': { N: '7' }, ':w': { N: '8' } },
        ReturnValues: 'ALL_NEW',
      }),
    ],
    status: 200,
  },
  {
    name: '+ of a string attribute is refused when it runs',
    steps: [
      put,
      update({
        UpdateExpression: 'SET s = s + :v',
        ExpressionAttributeValues: { ':v': { N: '5' } },
      }),
    ],
    status: 400,
    type: V,
    message: 'An operand in the update expression has an incorrect data type',
  },
  {
    name: '+ of a string value is refused before it runs',
    steps: [
      put,
      update({
        UpdateExpression: 'SET n = n + :v',
        ExpressionAttributeValues: { ':v': { S: '5' } },
      }),
    ],
    status: 400,
    type: V,
    message:
      'Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S',
  },
  {
    name: '+ of a missing attribute is refused',
    steps: [
      put,
      update({
        UpdateExpression: 'SET q = q + :v',
        ExpressionAttributeValues: { ':v': { N: '5' } },
      }),
    ],
    status: 400,
    type: V,
    message: 'The provided expression refers to an attribute that does not exist in the item',
  },
  {
    name: 'two actions on one path overlap',
    steps: [
      put,
      update({
        UpdateExpression: 'SET m = :v, m.x = :v',
        ExpressionAttributeValues: { ':v': { N: '5' } },
      }),
    ],
    status: 400,
    type: V,
    message:
      'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [m], path two: [m, x]',
  },
  {
    name: 'an unused expression attribute value is refused',
    steps: [
      put,
      update({
        UpdateExpression: 'SET n = :v',
        ExpressionAttributeValues: { ':v': { N: '5' }, ':w': { N: '1' } },
      }),
    ],
    status: 400,
    type: V,
    message: 'Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}',
  },
  {
    name: 'an undefined expression attribute value is refused',
    steps: [
      put,
      update({ UpdateExpression: 'SET n = :x', ExpressionAttributeValues: { ':v': { N: '5' } } }),
    ],
    status: 400,
    type: V,
    message:
      'Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :x',
  },
  {
    name: 'updating a key attribute is refused',
    steps: [
      put,
      update({ UpdateExpression: 'SET id = :v', ExpressionAttributeValues: { ':v': { S: '5' } } }),
    ],
    status: 400,
    type: V,
    message:
      'One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key',
  },
  {
    name: 'a section used twice is refused',
    steps: [
      put,
      update({
        UpdateExpression: 'SET a = :one SET b = :one',
        ExpressionAttributeValues: { ':one': { N: '7' } },
      }),
    ],
    status: 400,
    type: V,
    message:
      'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;',
  },
  {
    name: 'a syntax error names the token and its neighbours',
    steps: [
      put,
      update({
        UpdateExpression: 'SET a = :one + :one + :one',
        ExpressionAttributeValues: { ':one': { N: '7' } },
      }),
    ],
    status: 400,
    type: V,
    message: 'Invalid UpdateExpression: Syntax error; token: "+", near: ":one + :one"',
  },
  {
    name: 'ADD of a string is refused',
    steps: [
      put,
      update({ UpdateExpression: 'ADD n :s', ExpressionAttributeValues: { ':s': { S: 'x' } } }),
    ],
    status: 400,
    type: V,
    message:
      'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND',
  },
  {
    name: 'size() in an update is refused',
    steps: [put, update({ UpdateExpression: 'SET a = size(l)' })],
    status: 400,
    type: V,
    message:
      'Invalid UpdateExpression: The function is not allowed in an update expression; function: size',
  },
  {
    name: 'an update expression over 4 KB is refused',
    steps: [
      put,
      update({
        UpdateExpression: `SET ${Array.from({ length: 400 }, (_, i) => `a${i} = :v`).join(', ')}`,
        ExpressionAttributeValues: { ':v': { S: 'x' } },
      }),
    ],
    status: 400,
    type: V,
    message: 'Invalid UpdateExpression: Expression size has exceeded the maximum allowed size;',
  },
  {
    name: 'an update expression with 301 operators is refused; 300 are fine',
    steps: [
      update({
        UpdateExpression: `SET ${Array.from({ length: 300 }, (_, i) => `a${i}=:v+:v`).join(',')}`,
        ExpressionAttributeValues: { ':v': { N: '1' } },
      }),
      update({
        UpdateExpression: `SET ${Array.from({ length: 301 }, (_, i) => `a${i}=:v+:v`).join(',')}`,
        ExpressionAttributeValues: { ':v': { N: '1' } },
      }),
    ],
    status: 400,
    type: V,
    message:
      'Invalid UpdateExpression: The expression contains too many operators; operator count: 301',
  },
  {
    name: 'a condition with 301 operators is refused',
    steps: [
      cond(
        `${'NOT '.repeat(150)}attribute_exists(a) OR ${Array.from({ length: 75 }, (_, i) => `a${i} = :v`).join(' OR ')}`,
        { ':v': { S: 'x' } },
      ),
    ],
    status: 400,
    type: V,
    message:
      'Invalid ConditionExpression: The expression contains too many operators; operator count: 301',
  },
  {
    name: 'a condition with 300 operators is evaluated',
    steps: [
      cond(
        `${'NOT '.repeat(149)}attribute_exists(a) OR ${Array.from({ length: 75 }, (_, i) => `a${i} = :v`).join(' OR ')}`,
        { ':v': { S: 'x' } },
      ),
    ],
    status: 200,
  },
  {
    name: 'an item over 400 KB is refused',
    steps: [
      [
        'PutItem',
        { TableName: 'T', Item: { id: { S: 'big' }, d: { S: 'x'.repeat(400 * 1024 - 5) } } },
      ],
    ],
    status: 400,
    type: V,
    message: 'Item size has exceeded the maximum allowed size',
  },
  {
    name: 'an item of exactly 400 KB is stored and costs 400 write units',
    steps: [
      [
        'PutItem',
        {
          TableName: 'T',
          Item: { id: { S: 'big' }, d: { S: 'x'.repeat(400 * 1024 - 6) } },
          ReturnConsumedCapacity: 'TOTAL',
        },
      ],
    ],
    status: 200,
  },
  {
    name: 'an update that makes an item over 400 KB is refused',
    steps: [
      [
        'PutItem',
        { TableName: 'T', Item: { id: { S: 'a' }, d: { S: 'x'.repeat(400 * 1024 - 10) } } },
      ],
      update({
        UpdateExpression: 'SET e = :v',
        ExpressionAttributeValues: { ':v': { S: 'x'.repeat(20) } },
      }),
    ],
    status: 400,
    type: V,
    message: 'Item size to update has exceeded the maximum allowed size',
  },
  // Numbers
  ...[
    '1.0',
    '01',
    '-0',
    '1e2',
    '+1',
    '.5',
    '9.9999999999999999999999999999999999999e125',
    '1e-130',
  ].map(
    (n): EmulatorCase => ({
      name: `the number ${n} is stored in canonical form`,
      steps: [
        ['PutItem', { TableName: 'T', Item: { id: { S: 'n' }, n: { N: n } } }],
        ['GetItem', { TableName: 'T', Key: { id: { S: 'n' } } }],
      ],
      status: 200,
    }),
  ),
  ...[
    ['abc', 'A value provided cannot be converted into a number'],
    [
      '1e126',
      'Number overflow. Attempting to store a number with magnitude larger than supported range',
    ],
    [
      '1e-131',
      'Number underflow. Attempting to store a number with magnitude smaller than supported range',
    ],
    ['123456789012345678901234567890123456789', 'DynamoDB only supports precision up to 38 digits'],
  ].map(
    ([n, message]): EmulatorCase => ({
      name: `the number ${n} is refused`,
      steps: [['PutItem', { TableName: 'T', Item: { id: { S: 'n' }, n: { N: n } } }]],
      status: 400,
      type: V,
      message,
    }),
  ),
  {
    name: 'arithmetic keeps 38 digits exactly',
    steps: [
      ['PutItem', { TableName: 'T', Item: { id: { S: 'a' }, n: { N: '0.1' } } }],
      update({
        UpdateExpression: 'SET n = n + :v',
        ExpressionAttributeValues: { ':v': { N: '1234567890123456789012345678901234567' } },
        ReturnValues: 'ALL_NEW',
      }),
    ],
    status: 200,
  },
  // Keys
  {
    name: 'a key of the wrong type is refused',
    steps: [['GetItem', { TableName: 'T', Key: { id: { N: '1' } } }]],
    status: 400,
    type: V,
    message: 'One or more parameter values were invalid: Type mismatch for key',
  },
  {
    name: 'a key with another attribute name is refused',
    steps: [['GetItem', { TableName: 'T', Key: { idd: { S: 'a' } } }]],
    status: 400,
    type: V,
    message: 'One of the required keys was not given a value',
  },
  {
    name: 'a key with an extra attribute is refused',
    steps: [['GetItem', { TableName: 'T', Key: { id: { S: 'a' }, x: { S: 'a' } } }]],
    status: 400,
    type: V,
    message: 'The number of conditions on the keys is invalid',
  },
  {
    name: 'an empty key is refused',
    steps: [['PutItem', { TableName: 'T', Item: { id: { S: '' } } }]],
    status: 400,
    type: V,
    message:
      'One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: id',
  },
  {
    name: 'a key over 2048 bytes is refused',
    steps: [['GetItem', { TableName: 'T', Key: { id: { S: 'k'.repeat(2049) } } }]],
    status: 400,
    type: V,
    message:
      'Hash primary key values must be under 2048 bytes, and range primary key values must be under 1024 bytes',
  },
  {
    name: 'an empty string set is refused',
    steps: [['PutItem', { TableName: 'T', Item: { id: { S: 'b' }, ss: { SS: [] } } }]],
    status: 400,
    type: V,
    message: 'One or more parameter values were invalid: An string set  may not be empty',
  },
  // Tables
  {
    name: 'a missing table is ResourceNotFoundException',
    steps: [['GetItem', { TableName: 'no-such-table-at-all', Key: key }]],
    status: 400,
    type: 'ResourceNotFoundException',
    message: 'Cannot do operations on a non-existent table',
  },
  {
    name: 'creating an existing table is ResourceInUseException',
    steps: [
      [
        'CreateTable',
        {
          TableName: 'T',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        },
      ],
    ],
    status: 400,
    type: 'ResourceInUseException',
    message: 'Cannot create preexisting table',
  },
  {
    name: 'enabling TTL twice is refused',
    steps: [
      [
        'UpdateTimeToLive',
        { TableName: 'T', TimeToLiveSpecification: { AttributeName: 'expires', Enabled: true } },
      ],
      [
        'UpdateTimeToLive',
        { TableName: 'T', TimeToLiveSpecification: { AttributeName: 'expires', Enabled: true } },
      ],
    ],
    status: 400,
    type: V,
    message: 'TimeToLive is already enabled',
  },
  {
    name: 'DescribeTimeToLive tells the TTL attribute',
    steps: [
      [
        'UpdateTimeToLive',
        { TableName: 'T', TimeToLiveSpecification: { AttributeName: 'expires', Enabled: true } },
      ],
      ['DescribeTimeToLive', { TableName: 'T' }],
    ],
    status: 200,
  },
  // Reads and capacity
  {
    name: 'GetItem with a projection of nested paths',
    steps: [
      put,
      [
        'GetItem',
        {
          TableName: 'T',
          Key: key,
          ProjectionExpression: '#n, m.x, l[2], l[0], nothere',
          ExpressionAttributeNames: { '#n': 'n' },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        },
      ],
    ],
    status: 200,
  },
  {
    name: 'an eventually consistent GetItem of a missing item costs half a unit',
    steps: [['GetItem', { TableName: 'T', Key: key, ReturnConsumedCapacity: 'TOTAL' }]],
    status: 200,
  },
  {
    name: 'PutItem with ALL_OLD returns the old item and the larger item size in units',
    steps: [
      ['PutItem', { TableName: 'T', Item: { id: { S: 'a' }, d: { S: 'x'.repeat(3000) } } }],
      [
        'PutItem',
        { TableName: 'T', Item: key, ReturnValues: 'ALL_OLD', ReturnConsumedCapacity: 'TOTAL' },
      ],
    ],
    status: 200,
  },
  {
    name: 'DeleteItem with ALL_OLD returns the old item',
    steps: [
      put,
      [
        'DeleteItem',
        { TableName: 'T', Key: key, ReturnValues: 'ALL_OLD', ReturnConsumedCapacity: 'TOTAL' },
      ],
    ],
    status: 200,
  },
  {
    name: 'an invalid ReturnValues is refused',
    steps: [['PutItem', { TableName: 'T', Item: key, ReturnValues: 'ALL_NEW' }]],
    status: 400,
    type: V,
    message: 'Return values set to invalid value',
  },
  // Transactions
  {
    name: 'a transaction whose conditions hold writes every item',
    steps: [
      ['PutItem', { TableName: 'T', Item: { id: { S: 't1' }, v: { N: '1' } } }],
      [
        'TransactWriteItems',
        {
          TransactItems: [
            {
              Put: {
                TableName: 'T',
                Item: { id: { S: 't2' } },
                ConditionExpression: 'attribute_not_exists(id)',
              },
            },
            {
              Update: {
                TableName: 'T',
                Key: { id: { S: 't1' } },
                UpdateExpression: 'SET v = v + :one',
                ConditionExpression: 'v = :one',
                ExpressionAttributeValues: { ':one': { N: '1' } },
              },
            },
            { Delete: { TableName: 'T', Key: { id: { S: 't3' } } } },
          ],
          ReturnConsumedCapacity: 'TOTAL',
        },
      ],
      ['GetItem', { TableName: 'T', Key: { id: { S: 't1' } } }],
    ],
    status: 200,
  },
  {
    name: 'a cancelled transaction tells each item why, and writes nothing',
    steps: [
      ['PutItem', { TableName: 'T', Item: { id: { S: 't1' }, v: { N: '1' } } }],
      [
        'TransactWriteItems',
        {
          TransactItems: [
            {
              Put: {
                TableName: 'T',
                Item: { id: { S: 't1' }, v: { N: '9' } },
                ConditionExpression: 'attribute_not_exists(id)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              ConditionCheck: {
                TableName: 'T',
                Key: { id: { S: 't3' } },
                ConditionExpression: 'attribute_not_exists(id)',
              },
            },
            {
              Update: {
                TableName: 'T',
                Key: { id: { S: 't4' } },
                UpdateExpression: 'SET v = :one',
                ConditionExpression: 'attribute_exists(id)',
                ExpressionAttributeValues: { ':one': { N: '1' } },
              },
            },
          ],
        },
      ],
    ],
    status: 400,
    type: 'TransactionCanceledException',
    message:
      'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None, ConditionalCheckFailed]',
  },
  {
    name: 'a transaction with two operations on one item is refused',
    steps: [
      [
        'TransactWriteItems',
        {
          TransactItems: [
            { Put: { TableName: 'T', Item: { id: { S: 't2' } } } },
            { Delete: { TableName: 'T', Key: { id: { S: 't2' } } } },
          ],
        },
      ],
    ],
    status: 400,
    type: V,
    message: 'Transaction request cannot include multiple operations on one item',
  },
  // Batches and scans
  {
    name: 'BatchWriteItem puts and deletes, with capacity per table',
    steps: [
      [
        'BatchWriteItem',
        {
          RequestItems: {
            T: [
              { PutRequest: { Item: { id: { S: 'b1' }, e: { N: '5' } } } },
              { PutRequest: { Item: { id: { S: 'b2' }, e: { N: '50' } } } },
              { DeleteRequest: { Key: { id: { S: 'b3' } } } },
            ],
          },
          ReturnConsumedCapacity: 'TOTAL',
        },
      ],
    ],
    status: 200,
  },
  {
    name: 'BatchWriteItem with one key twice is refused',
    steps: [
      [
        'BatchWriteItem',
        {
          RequestItems: {
            T: [
              { PutRequest: { Item: { id: { S: 'b1' } } } },
              { DeleteRequest: { Key: { id: { S: 'b1' } } } },
            ],
          },
        },
      ],
    ],
    status: 400,
    type: V,
    message: 'Provided list of item keys contains duplicates',
  },
  {
    name: 'Scan with a filter and a projection counts scanned and returned items',
    steps: [
      ['PutItem', { TableName: 'T', Item: { id: { S: 'b1' }, e: { N: '5' } } }],
      ['PutItem', { TableName: 'T', Item: { id: { S: 'b2' }, e: { N: '50' } } }],
      ['PutItem', { TableName: 'T', Item: { id: { S: 'b3' }, e: { S: 'x' } } }],
      [
        'Scan',
        {
          TableName: 'T',
          ProjectionExpression: 'id',
          FilterExpression: 'e < :x',
          ExpressionAttributeValues: { ':x': { N: '10' } },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        },
      ],
    ],
    status: 200,
  },
  {
    name: 'Scan with Limit 0 is refused',
    steps: [['Scan', { TableName: 'T', Limit: 0 }]],
    status: 400,
    type: V,
    message: 'Limit must be greater than or equal to 1',
  },
  {
    name: 'Scan with Select COUNT returns no items',
    steps: [
      ['PutItem', { TableName: 'T', Item: { id: { S: 'b1' } } }],
      ['Scan', { TableName: 'T', Select: 'COUNT' }],
    ],
    status: 200,
  },
]
