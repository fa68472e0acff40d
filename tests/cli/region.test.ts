// A region AWS does not list is most likely a typo: the CLI says so, with the closest region, and
// goes on (AWS adds regions, so it is a warning, not a refusal). Against DynamoDB Local.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { testEndpoint } from '../support/backend.ts'
import { cli, type Run } from '../support/cli.ts'

/** `dynamo-session create-table` on a fresh table, with `env` and the test's DynamoDB Local. */
function createTable(args: string[], env: Record<string, string>): Promise<Run> {
  const table = `region-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
  return cli(['create-table', '--table', table, ...args], {
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: testEndpoint(),
    ...env,
  })
}

describe('dynamo-session with a region AWS does not list', () => {
  test('--region eu-wset-1: a warning with "did you mean eu-west-1?", and the table is created all the same', async () => {
    const { code, stdout, stderr } = await createTable(['--region', 'eu-wset-1'], {})
    assert.equal(code, 0, stderr)
    assert.equal(
      stderr,
      'dynamo-session: warning: "eu-wset-1" is not one of the AWS regions this version knows (did you mean eu-west-1?); using it as given.\n',
    )
    assert.match(stdout, /^Created table /)
  })

  test('AWS_REGION=us-eats-1 from the environment: the same warning, suggesting us-east-1', async () => {
    const { code, stderr } = await createTable([], { AWS_REGION: 'us-eats-1' })
    assert.equal(code, 0, stderr)
    assert.match(
      stderr,
      /"us-eats-1" is not one of the AWS regions .* \(did you mean us-east-1\?\)/,
    )
  })

  test('a region far from every listed one: the warning without a suggestion', async () => {
    const { code, stderr } = await createTable(['--region', 'local'], {})
    assert.equal(code, 0, stderr)
    assert.match(stderr, /warning: "local" is not one of the AWS regions this version knows; /)
  })

  test('listed regions, the newest included, draw no warning', async () => {
    for (const region of ['eu-west-1', 'ap-southeast-7', 'mx-central-1', 'us-gov-west-1']) {
      const { code, stderr } = await createTable(['--region', region], {})
      assert.equal(code, 0, stderr)
      assert.equal(stderr, '', region)
    }
  })

  test('a malformed region is still refused by the check of its form, without the warning', async () => {
    const { code, stderr } = await createTable(['--region', 'EU_WEST'], {})
    assert.equal(code, 2)
    assert.doesNotMatch(stderr, /warning/)
    assert.match(stderr, /--region/)
  })
})
