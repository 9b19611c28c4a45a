import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '@berth/contract'
import { parseSecretsConfig, secretsConfigSchema } from '../src/index.js'

function problems(input: unknown): string[] {
  try {
    parseSecretsConfig(input)
  } catch (error) {
    assert.ok(error instanceof ConfigError)
    assert.equal(error.exitCode, 2)
    return error.problems
  }
  assert.fail('expected a ConfigError')
}

describe('secrets config', () => {
  it('fills every default when the section is absent or empty', () => {
    const expected = { provider: 'none', fields: {}, defaults: {}, timeout: 15 }
    assert.deepEqual(secretsConfigSchema.parse(undefined), expected)
    assert.deepEqual(secretsConfigSchema.parse({}), expected)
  })

  it('accepts the documented 1password example and turns numeric defaults into strings', () => {
    const config = parseSecretsConfig({
      provider: '1password',
      item: 'acme-dev',
      vault: 'Dev',
      fields: { db_password: 'ACME_DB_PASSWORD' },
      defaults: { ACME_DB_PASSWORD: 'localdev', ACME_PIN: 1234 },
      timeout: 5,
      localProdItem: 'acme-prod',
    })
    assert.equal(config.provider, '1password')
    assert.deepEqual(config.defaults, { ACME_DB_PASSWORD: 'localdev', ACME_PIN: '1234' })
    assert.equal(config.timeout, 5)
  })

  it('reports a bad environment variable name at secrets.fields.<field>', () => {
    assert.deepEqual(problems({ fields: { db_password: 'db-password' } }), [
      'secrets.fields.db_password: "db-password" must be an environment variable name: A-Z, 0-9 and _, not starting with a digit',
    ])
  })

  it('reports a bad default name at secrets.defaults.<name>', () => {
    const [problem] = problems({ defaults: { '1BAD': 'x' } })
    assert.match(problem ?? '', /^secrets\.defaults\.1BAD: "1BAD" must be an environment variable name/)
  })

  it('requires item for 1password and file for env-file', () => {
    assert.deepEqual(problems({ provider: '1password' }), [
      "secrets.item: provider '1password' needs the 1Password item name or id",
    ])
    assert.deepEqual(problems({ provider: 'env-file' }), [
      "secrets.file: provider 'env-file' needs the path of the env file",
    ])
  })

  it('refuses two fields mapped to one variable', () => {
    assert.deepEqual(problems({ fields: { a: 'X', b: 'X' } }), ['secrets.fields.b: X is already mapped from field "a"'])
  })

  it('lists every problem at once, including unknown keys, bad providers and bad timeouts', () => {
    const found = problems({ provider: 'vault', timeout: -1, itme: 'x', fields: { f: 'lower' } })
    assert.equal(found.length, 4, found.join('\n'))
    assert.ok(found.some((p) => p.startsWith('secrets.fields.f: "lower" must be')))
    assert.ok(found.some((p) => p.startsWith('secrets.provider: ')))
    assert.ok(found.some((p) => p.startsWith('secrets.timeout: ')))
    assert.ok(found.some((p) => p.startsWith('secrets: ') && p.includes('itme')))
  })
})
