import assert from 'node:assert/strict'
import { test } from 'node:test'
import { instanceIdFor, NAME_PATTERN, parseFeatureName, slugify, UsageError, validateName } from '../src/index.js'

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

test('parseFeatureName takes <feature>/<milestone> and upper case: folder slug lower-cased, branch part as typed', () => {
  assert.deepEqual(parseFeatureName('genome/M1'), { typed: 'genome/M1', slug: 'genome-m1', branch: 'genome-M1' })
  assert.deepEqual(parseFeatureName('MyFeature'), { typed: 'MyFeature', slug: 'myfeature', branch: 'MyFeature' })
  assert.deepEqual(parseFeatureName('a/b/c_2.x'), { typed: 'a/b/c_2.x', slug: 'a-b-c_2.x', branch: 'a-b-c_2.x' })
  assert.match(instanceIdFor(`acme-impl-${parseFeatureName('Genome/M1.5').slug}`), /^[a-z0-9][a-z0-9_-]*$/)
})

test('parseFeatureName refuses names that cannot be made safe with exit 2, saying why', () => {
  const refused: [string, RegExp][] = [
    ['', /is empty/],
    ['../x', /contains '\.\.'/],
    ['a/../b', /contains '\.\.'/],
    ['a b', /whitespace/],
    ['a\tb', /whitespace/],
    ['a\\b', /backslash/],
    ['/etc', /starts or ends with '\/'/],
    ['a/', /starts or ends with '\/'/],
    ['a//b', /empty part/],
    ['a/.git', /must start with a letter or digit/],
    ['-x', /must start with a letter or digit/],
    ['a/b.lock', /cannot be a git branch name/],
    ['x.', /cannot be a git branch name/],
    ['a;b', /characters other than/],
    ['café', /characters other than/],
    ['a'.repeat(64), /too long/],
  ]
  for (const [bad, reason] of refused) {
    assert.throws(
      () => parseFeatureName(bad, 'impl name'),
      (error: unknown) =>
        error instanceof UsageError && error.exitCode === 2 && reason.test(error.message) && error.hint !== undefined,
      JSON.stringify(bad),
    )
  }
})
