import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { Redactor } from '@berth/contract'
import { ensureBusyboxTestImage } from '@berth/contract/testing'
import { learnContainerSecrets, secretsPlugin } from '../src/index.js'
import { cleanup, makeContext, standinOp } from './helpers.js'

after(cleanup)

const run = promisify(execFile)
const DB = `Zq8-db-"quoted"-${randomBytes(4).toString('hex')}`
const SECTION = {
  provider: '1password',
  item: 'acme-dev',
  fields: { db_password: 'ACME_DB_PASSWORD' },
  defaults: { ACME_DB_PASSWORD: 'localdev-default' },
  timeout: 5,
}

function redactService(env: NodeJS.ProcessEnv, ctx: ReturnType<typeof makeContext>) {
  const services = secretsPlugin({ env }).services?.(ctx) as { redactSecrets(): Promise<void> }
  assert.equal(typeof services.redactSecrets, 'function')
  return services.redactSecrets
}

describe('the redactSecrets service', () => {
  it('registers what the provider yields, in memory only: no output, no log line above debug, no secretEnv', async () => {
    const op = standinOp({ 'acme-dev': { db_password: DB } })
    const ctx = makeContext({
      secrets: SECTION,
      instance: { id: `acme-impl-nocontainers-${randomBytes(3).toString('hex')}` },
    })
    const redactSecrets = redactService(op.env, ctx)
    await redactSecrets()
    await redactSecrets()
    assert.equal(ctx.redactor.redact(`pw=${DB} json=${JSON.stringify(DB)}`), 'pw=*** json="***"')
    assert.equal(ctx.redactor.redact('localdev-default'), '***')
    assert.deepEqual(ctx.secretEnv, {})
    assert.deepEqual(ctx.output, {})
    assert.deepEqual(
      ctx.log.lines.filter((line) => line.level !== 'debug'),
      [],
    )
    assert.equal(op.calls().filter((call) => call.argv[0] === 'item').length, 1, 'op asked once per command')
  })

  it('never throws when op is signed out: the defaults are still registered', async () => {
    const op = standinOp({ 'acme-dev': { db_password: DB } }, { OP_STANDIN_SIGNED_OUT: '1' })
    const ctx = makeContext({ secrets: SECTION, instance: { kind: 'local-prod' } })
    await redactService(op.env, ctx)()
    assert.equal(ctx.redactor.redact('localdev-default'), '***')
    assert.deepEqual(
      ctx.log.lines.filter((line) => line.level !== 'debug'),
      [],
    )
  })

  it("learns the values a project's containers hold for the secret variables, and no other variable", async () => {
    const image = await ensureBusyboxTestImage()
    const project = `berth-secrets-learn-${randomBytes(3).toString('hex')}`
    const { stdout } = await run('docker', [
      'create',
      '--label',
      `com.docker.compose.project=${project}`,
      '-e',
      `ACME_DB_PASSWORD=${DB}`,
      '-e',
      'HARMLESS=visible-value',
      image,
      '/bin/busybox',
      'true',
    ])
    try {
      const redactor = new Redactor()
      const added = await learnContainerSecrets(project, new Set(['ACME_DB_PASSWORD']), redactor)
      assert.equal(added, 1)
      assert.equal(redactor.redact(`${DB} visible-value`), '*** visible-value')
    } finally {
      await run('docker', ['rm', '-f', stdout.trim()])
    }
  })
})
