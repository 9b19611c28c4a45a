import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatEnvFile, parseEnvFile, UsageError } from '../src/index.js'

test('formatEnvFile and parseEnvFile round-trip KEY=value lines', () => {
  const values = { INSTANCE_ID: 'acme-impl-a', SLOT_NUMBER: '2', API_PORT: '8002', SHARED: '/home/u/.berth/shared' }
  const text = formatEnvFile(values, 'header line')
  assert.ok(text.startsWith('# header line\n'))
  assert.deepEqual(parseEnvFile(text), values)
})

test('formatEnvFile refuses values a shell would execute or that break the format', () => {
  for (const bad of ['$(rm -rf /)', 'a\nB=1', '`id`', 'x"y', 'a b']) {
    assert.throws(() => formatEnvFile({ X: bad }), UsageError, bad)
  }
})

test('parseEnvFile names the file and line of a malformed line without quoting its value', () => {
  assert.throws(
    () => parseEnvFile('A=1\nexport SECRET=hunter2\n', '/x/.env.sandbox'),
    (error: unknown) =>
      error instanceof UsageError && error.message.includes('/x/.env.sandbox:2') && !error.message.includes('hunter2'),
  )
})
