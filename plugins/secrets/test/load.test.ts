import assert from 'node:assert/strict'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { EnvironmentError, OperationError, Redactor, UsageError } from '@berth/contract'
import { loadSecrets, parseSecretsConfig, type SecretsConfigInput } from '../src/index.js'
import { cleanup, envWithoutOp, gitRepo, recordingLogger, standinOp, tempDir } from './helpers.js'

after(cleanup)

const DB = 'db-Secret-4e1b9'
const JWT = 'jwt-Secret-77aa0c'
const ITEMS = {
  'acme-dev': { db_password: { value: DB, type: 'CONCEALED' }, jwt_secret: { value: JWT, type: 'STRING' } },
  'acme-prod': { db_password: { value: 'prod-db-Secret-1', type: 'CONCEALED' }, jwt_secret: 'prod-jwt-Secret-2' },
}
const onePassword = (extra: Partial<SecretsConfigInput> = {}) =>
  parseSecretsConfig({
    provider: '1password',
    item: 'acme-dev',
    fields: { db_password: 'ACME_DB_PASSWORD', jwt_secret: 'JWT_SECRET' },
    defaults: { ACME_DB_PASSWORD: 'localdev', JWT_SECRET: 'insecure-jwt' },
    timeout: 5,
    ...extra,
  })

describe('loadSecrets with 1Password', () => {
  it('maps the fields of the item to variables and registers every value for redaction', async () => {
    const op = standinOp(ITEMS)
    const redactor = new Redactor()
    const log = recordingLogger()
    const loaded = await loadSecrets(onePassword(), { env: op.env, redactor, log })
    assert.deepEqual(loaded.values, { ACME_DB_PASSWORD: DB, JWT_SECRET: JWT })
    assert.equal(loaded.source, 'op')
    assert.deepEqual(loaded.variables, ['ACME_DB_PASSWORD', 'JWT_SECRET'])
    assert.deepEqual(loaded.defaulted, [])
    assert.equal(redactor.redact(`password=${DB} jwt=${JWT}`), 'password=*** jwt=***')
    assert.deepEqual(log.warnings(), [])
    assert.deepEqual(
      op.calls().map((c) => c.argv.slice(0, 3)),
      [
        ['whoami', '--format', 'json'],
        ['item', 'get', 'acme-dev'],
      ],
    )
  })

  it('falls back to the defaults with exactly one warning when op is signed out', async () => {
    const op = standinOp(ITEMS, { OP_STANDIN_SIGNED_OUT: '1' })
    const log = recordingLogger()
    const loaded = await loadSecrets(onePassword(), { env: op.env, log })
    assert.deepEqual(loaded.values, { ACME_DB_PASSWORD: 'localdev', JWT_SECRET: 'insecure-jwt' })
    assert.equal(loaded.source, 'defaults')
    assert.deepEqual(loaded.defaulted, ['ACME_DB_PASSWORD', 'JWT_SECRET'])
    assert.equal(log.warnings().length, 1)
    assert.match(
      log.warnings()[0] ?? '',
      /not signed in \(account is not signed in\).*ACME_DB_PASSWORD, JWT_SECRET.*op signin/,
    )
  })

  it('falls back to the defaults with exactly one warning when op is not installed', async () => {
    const log = recordingLogger()
    const loaded = await loadSecrets(onePassword(), { env: envWithoutOp(), log })
    assert.equal(loaded.source, 'defaults')
    assert.equal(log.warnings().length, 1)
    assert.match(log.warnings()[0] ?? '', /'op' is not on PATH.*insecure defaults for ACME_DB_PASSWORD, JWT_SECRET/)
  })

  it('names mapped variables without a default that stay unset in the fallback warning', async () => {
    const log = recordingLogger()
    const loaded = await loadSecrets(onePassword({ defaults: { ACME_DB_PASSWORD: 'localdev' } }), {
      env: envWithoutOp(),
      log,
    })
    assert.deepEqual(loaded.values, { ACME_DB_PASSWORD: 'localdev' })
    assert.deepEqual(loaded.unset, ['JWT_SECRET'])
    assert.equal(log.warnings().length, 1)
    assert.match(log.warnings()[0] ?? '', /JWT_SECRET has no default and stays unset/)
  })

  it('loads through the 1Password app integration even though op whoami says signed out', async () => {
    const op = standinOp(ITEMS, { OP_STANDIN_DESKTOP: '1' })
    const loaded = await loadSecrets(onePassword(), { env: op.env })
    assert.equal(loaded.source, 'op')
    assert.equal(loaded.values.ACME_DB_PASSWORD, DB)
  })

  it('skips op entirely with --no-secrets and warns once', async () => {
    const op = standinOp(ITEMS)
    const log = recordingLogger()
    const loaded = await loadSecrets(onePassword(), { env: op.env, noSecrets: true, log })
    assert.equal(loaded.source, 'defaults')
    assert.deepEqual(op.calls(), [])
    assert.equal(log.warnings().length, 1)
    assert.match(log.warnings()[0] ?? '', /--no-secrets/)
  })

  it('refuses local-prod with op signed out (exit 4) instead of using insecure defaults', async () => {
    const op = standinOp(ITEMS, { OP_STANDIN_SIGNED_OUT: '1' })
    const log = recordingLogger()
    await assert.rejects(loadSecrets(onePassword(), { env: op.env, kind: 'local-prod', log }), (error) => {
      assert.ok(error instanceof EnvironmentError)
      assert.equal(error.exitCode, 4)
      assert.equal(error.code, 'E_OP_SIGNED_OUT')
      assert.match(error.message, /not signed in/)
      return true
    })
    assert.deepEqual(log.warnings(), [])
  })

  it('refuses local-prod with op missing (exit 4)', async () => {
    await assert.rejects(loadSecrets(onePassword(), { env: envWithoutOp(), kind: 'local-prod' }), (error) => {
      assert.ok(error instanceof EnvironmentError)
      assert.equal(error.code, 'E_NO_OP')
      assert.match(error.message, /'op' is not on PATH/)
      return true
    })
  })

  it('refuses --no-secrets on local-prod as a usage error', async () => {
    const op = standinOp(ITEMS)
    await assert.rejects(loadSecrets(onePassword(), { env: op.env, kind: 'local-prod', noSecrets: true }), (error) => {
      assert.ok(error instanceof UsageError)
      assert.equal(error.exitCode, 2)
      return true
    })
  })

  it('reads localProdItem for the local-prod instance', async () => {
    const op = standinOp(ITEMS)
    const loaded = await loadSecrets(onePassword({ localProdItem: 'acme-prod' }), { env: op.env, kind: 'local-prod' })
    assert.equal(loaded.item, 'acme-prod')
    assert.deepEqual(loaded.values, { ACME_DB_PASSWORD: 'prod-db-Secret-1', JWT_SECRET: 'prod-jwt-Secret-2' })
  })

  it('uses the default of a field missing from the item, with a warning', async () => {
    const op = standinOp({ 'acme-dev': { db_password: DB } })
    const log = recordingLogger()
    const loaded = await loadSecrets(onePassword(), { env: op.env, log })
    assert.deepEqual(loaded.values, { ACME_DB_PASSWORD: DB, JWT_SECRET: 'insecure-jwt' })
    assert.deepEqual(loaded.defaulted, ['JWT_SECRET'])
    assert.equal(log.warnings().length, 1)
    assert.match(log.warnings()[0] ?? '', /JWT_SECRET \(field "jwt_secret"\)/)
  })

  it('fails naming the field and the item when a field without default is missing', async () => {
    const op = standinOp({ 'acme-dev': { db_password: DB } })
    await assert.rejects(loadSecrets(onePassword({ defaults: {} }), { env: op.env }), (error) => {
      assert.ok(error instanceof OperationError)
      assert.match(error.message, /1Password item "acme-dev" has no field "jwt_secret" \(for JWT_SECRET\)/)
      assert.equal(error.message.includes(DB), false)
      return true
    })
  })

  it('refuses the default of a missing field on local-prod', async () => {
    const op = standinOp({ 'acme-dev': { db_password: DB } })
    await assert.rejects(loadSecrets(onePassword(), { env: op.env, kind: 'local-prod' }), OperationError)
  })

  it('fails in time when op item get hangs, and the slow op is killed', async () => {
    const op = standinOp(ITEMS, { OP_STANDIN_DELAY_MS: '20000', OP_STANDIN_DELAY_ON: 'item' })
    const started = Date.now()
    await assert.rejects(loadSecrets(onePassword({ timeout: 0.5 }), { env: op.env }), /did not answer within 0\.5s/)
    assert.ok(Date.now() - started < 5000)
  })

  it('uses the defaults quietly with provider none', async () => {
    const log = recordingLogger()
    const redactor = new Redactor()
    const loaded = await loadSecrets(parseSecretsConfig({ defaults: { ACME_DB_PASSWORD: 'localdev' } }), {
      log,
      redactor,
    })
    assert.deepEqual(loaded.values, { ACME_DB_PASSWORD: 'localdev' })
    assert.equal(loaded.source, 'none')
    assert.deepEqual(log.lines, [])
    assert.equal(redactor.size, 1)
  })
})

describe('loadSecrets with an env file', () => {
  const envFile = (provider: Partial<SecretsConfigInput>) => parseSecretsConfig({ provider: 'env-file', ...provider })

  it('maps the keys of a file outside the repository', async () => {
    const repo = gitRepo()
    const file = join(tempDir(), 'acme.env')
    writeFileSync(file, `# acme\nDB_PASSWORD=${DB}\nOTHER=x\n`, { mode: 0o600 })
    const redactor = new Redactor()
    const loaded = await loadSecrets(envFile({ file, fields: { DB_PASSWORD: 'ACME_DB_PASSWORD' } }), {
      baseDir: repo,
      forbiddenRoots: [repo],
      redactor,
    })
    assert.deepEqual(loaded.values, { ACME_DB_PASSWORD: DB })
    assert.equal(loaded.source, 'env-file')
    assert.equal(loaded.file, file)
    assert.equal(redactor.redact(DB), '***')
  })

  it('takes every key when no fields are mapped, expanding ~ from HOME', async () => {
    const home = tempDir()
    mkdirSync(join(home, '.config'))
    writeFileSync(join(home, '.config', 'acme.env'), `A_KEY=${DB}\nB_KEY=${JWT}\n`)
    const loaded = await loadSecrets(envFile({ file: '~/.config/acme.env' }), {
      env: { HOME: home },
      forbiddenRoots: [],
    })
    assert.deepEqual(loaded.values, { A_KEY: DB, B_KEY: JWT })
  })

  it('refuses a file inside the repository, also through a relative path or a symlink', async () => {
    const repo = gitRepo()
    writeFileSync(join(repo, '.env.secrets'), `DB_PASSWORD=${DB}\n`)
    const outside = tempDir()
    symlinkSync(join(repo, '.env.secrets'), join(outside, 'link.env'))
    for (const file of [join(repo, '.env.secrets'), '.env.secrets', join(outside, 'link.env')]) {
      await assert.rejects(loadSecrets(envFile({ file }), { baseDir: repo, forbiddenRoots: [repo] }), (error) => {
        assert.ok(error instanceof UsageError, String(error))
        assert.match(error.message, /inside the repository/)
        return true
      })
    }
  })

  it('falls back to the defaults with one warning when the file does not exist', async () => {
    const log = recordingLogger()
    const file = join(tempDir(), 'missing.env')
    const loaded = await loadSecrets(
      envFile({ file, fields: { DB_PASSWORD: 'ACME_DB_PASSWORD' }, defaults: { ACME_DB_PASSWORD: 'localdev' } }),
      {
        log,
      },
    )
    assert.equal(loaded.source, 'defaults')
    assert.equal(log.warnings().length, 1)
    assert.match(log.warnings()[0] ?? '', /does not exist/)
    await assert.rejects(loadSecrets(envFile({ file }), { kind: 'local-prod' }), EnvironmentError)
  })

  it('reports a malformed line by number without showing it', async () => {
    const file = join(tempDir(), 'bad.env')
    writeFileSync(file, `OK=1\nexport DB_PASSWORD=${DB}\n`)
    await assert.rejects(loadSecrets(envFile({ file }), {}), (error) => {
      assert.ok(error instanceof UsageError)
      assert.match(error.message, /bad\.env:2: expected KEY=value/)
      assert.equal(error.message.includes(DB), false)
      return true
    })
  })
})
