import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConflictError, EnvironmentError, OperationError, Redactor, UsageError } from '../src/index.js'

test('Redactor replaces every occurrence, longest secret first', () => {
  const redactor = new Redactor()
  redactor.add('abc')
  redactor.add('abcdef')
  assert.equal(redactor.redact('x abcdef y abc'), 'x *** y ***')
  assert.deepEqual(redactor.redactValue({ a: ['abc'] }), { a: ['***'] })
})

test('typed errors carry the exit codes of the CLI contract', () => {
  assert.equal(new OperationError('x').exitCode, 1)
  assert.equal(new UsageError('x').exitCode, 2)
  assert.equal(new ConflictError('x').exitCode, 3)
  assert.equal(new EnvironmentError('x').exitCode, 4)
})
