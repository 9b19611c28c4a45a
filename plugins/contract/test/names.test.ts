import assert from 'node:assert/strict'
import { test } from 'node:test'
import { instanceIdFor, NAME_PATTERN, slugify, UsageError, validateName } from '../src/index.js'

test('slugify lower-cases and turns runs of other characters into one dash', () => {
  assert.equal(slugify('My Feature!!'), 'my-feature')
  assert.equal(slugify('Café_ß.1'), 'cafe_-.1')
})

test('validateName refuses path tricks, whitespace and empty names with exit 2', () => {
  for (const bad of ['', '../../etc', 'a/b', 'a\\b', 'a b', 'a\nb', '..', '-', '\u0000']) {
    assert.throws(
      () => validateName(bad),
      (error: unknown) => error instanceof UsageError && error.exitCode === 2,
      JSON.stringify(bad),
    )
  }
})

test('validateName returns the slug of an acceptable name', () => {
  assert.equal(validateName('My-Feature'), 'my-feature')
  assert.match(validateName('v1.2'), NAME_PATTERN)
})

test('a 10 kB name is refused without echoing it whole', () => {
  const long = 'a'.repeat(10_000)
  assert.throws(
    () => validateName(long),
    (error: unknown) => error instanceof UsageError && error.message.length < 200,
  )
})

test('instance ids have no dots, so compose project names equal them', () => {
  assert.equal(instanceIdFor('acme-impl-v1.2'), 'acme-impl-v1-2')
})
