import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConflictError, EnvironmentError, OperationError, Redactor, secretForms, UsageError } from '../src/index.js'

test('Redactor replaces every occurrence, longest secret first', () => {
  const redactor = new Redactor()
  redactor.add('abc')
  redactor.add('abcdef')
  assert.equal(redactor.redact('x abcdef y abc'), 'x *** y ***')
  assert.deepEqual(redactor.redactValue({ a: ['abc'] }), { a: ['***'] })
})

test('Redactor redacts a secret holding a quote, a backslash and a newline in its JSON-escaped form too', () => {
  const secret = 'pa"ss\\wo\nrd-line2'
  const redactor = new Redactor()
  redactor.add(secret)
  const logged = JSON.stringify({ level: 'info', password: secret })
  assert.equal(redactor.redact(logged), '{"level":"info","password":"***"}')
  // a JSON log line inside a JSON document (`sandbox logs --json`): escaped twice
  const document = JSON.stringify({ logs: logged })
  assert.ok(!redactor.redact(document).includes('wo\\\\n'), redactor.redact(document))
  assert.equal(JSON.parse(redactor.redact(document)).logs, '{"level":"info","password":"***"}')
})

test('Redactor redacts each line of a multi-line secret, as line-by-line output shows it', () => {
  const key = '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nAASCBKcwggSjAgEAAoIBAQC7\r\nab\n-----END KEY-----'
  const redactor = new Redactor()
  redactor.add(key)
  const lines = ['db-1 | MIIEvQIBADANBgkqhkiG9w0BAQEF', 'db-1 | AASCBKcwggSjAgEAAoIBAQC7', 'db-1 | -----END KEY-----']
  assert.deepEqual(
    lines.map((line) => redactor.redact(line)),
    ['db-1 | ***', 'db-1 | ***', 'db-1 | ***'],
  )
  // a two-character piece is not redacted on its own (it would blank out ordinary words)
  assert.equal(redactor.redact('tab'), 'tab')
  assert.equal(redactor.size, 1)
})

test('Redactor redacts the percent-encoded, \\u-escaped and slash-escaped forms', () => {
  const secret = 'p@ss/wörd'
  const redactor = new Redactor()
  redactor.add(secret)
  assert.equal(redactor.redact(`postgres://app:${encodeURIComponent(secret)}@db/app`), 'postgres://app:***@db/app')
  assert.equal(redactor.redact('{"pw":"p@ss\\/w\\u00f6rd"}'), '{"pw":"***"}')
  assert.equal(redactor.redact('{"pw":"p@ss/w\\u00f6rd"}'), '{"pw":"***"}')
  assert.ok(secretForms(secret).includes(secret))
})

test('redactValue walks the value, so a secret that looks like JSON syntax cannot break a document', () => {
  const redactor = new Redactor()
  redactor.add('":"')
  redactor.add('null')
  const value = { 'key":"x': 'a":"b', n: null, list: ['null', 1, true], nested: { at: new Date(0) } }
  const redacted = redactor.redactValue(value)
  assert.deepEqual(redacted, {
    'key***x': 'a***b',
    n: null,
    list: ['***', 1, true],
    nested: { at: '1970-01-01T00:00:00.000Z' },
  })
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(redacted)))
})

test('a Redactor with no secrets returns text and values unchanged', () => {
  const redactor = new Redactor()
  redactor.add('')
  redactor.add(undefined)
  assert.equal(redactor.size, 0)
  assert.equal(redactor.redact('a.b*c'), 'a.b*c')
  const value = { a: 1 }
  assert.equal(redactor.redactValue(value), value)
})

test('typed errors carry the exit codes of the CLI contract', () => {
  assert.equal(new OperationError('x').exitCode, 1)
  assert.equal(new UsageError('x').exitCode, 2)
  assert.equal(new ConflictError('x').exitCode, 3)
  assert.equal(new EnvironmentError('x').exitCode, 4)
})
