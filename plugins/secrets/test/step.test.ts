import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ConfigError, EnvironmentError, pluginKey, type TaskContext, UsageError } from '@berth/contract'
import { SECRETS_VERSION, secretsPlugin, secretsReportSchema } from '../src/index.js'
import { cleanup, filesContaining, gitRepo, makeContext, processesWithArgv, standinOp, tempDir } from './helpers.js'

after(cleanup)

const DB = 'Zq8-db-Secret-f00d'
const API = 'Zq8-api-Key-beef'
const ITEMS = { 'acme-dev': { db_password: DB, anthropic_api_key: { value: API, type: 'STRING' } } }
const SECTION = {
  provider: '1password',
  item: 'acme-dev',
  fields: { db_password: 'ACME_DB_PASSWORD', anthropic_api_key: 'ANTHROPIC_API_KEY' },
  defaults: { ACME_DB_PASSWORD: 'localdev' },
  timeout: 5,
}
const packageVersion = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version

function loadStep(env: NodeJS.ProcessEnv) {
  const step = secretsPlugin({ env }).steps.load
  assert.ok(step?.undo)
  return {
    run: async (ctx: TaskContext) => step.run(ctx),
    undo: async (ctx: TaskContext) => step.undo?.(ctx),
  }
}

describe('secrets.load', () => {
  it('is the berth:secrets plugin with a secrets config section and an undoable load step', () => {
    const plugin = secretsPlugin()
    assert.equal(plugin.name, 'berth:secrets')
    assert.equal(pluginKey(plugin), 'secrets')
    assert.equal(plugin.version, packageVersion)
    assert.equal(SECRETS_VERSION, packageVersion)
    assert.ok(plugin.config?.secrets)
    assert.equal(typeof plugin.steps.load?.undo, 'function')
  })

  it('puts the mapped secrets into ctx.secretEnv and nowhere else: not in output, logs, files or argv', async () => {
    const worktree = gitRepo()
    const op = standinOp(ITEMS, { OP_STANDIN_DELAY_MS: '600', OP_STANDIN_DELAY_ON: 'item' })
    const ctx = makeContext({ secrets: SECTION, root: worktree, instance: { kind: 'impl', path: worktree } })
    // Watch every process's argv while op is answering.
    const argvHits: string[] = []
    const watcher = setInterval(() => argvHits.push(...processesWithArgv(DB), ...processesWithArgv(API)), 25)
    try {
      await loadStep(op.env).run(ctx)
    } finally {
      clearInterval(watcher)
    }
    assert.deepEqual(ctx.secretEnv, { ACME_DB_PASSWORD: DB, ANTHROPIC_API_KEY: API })
    assert.equal(ctx.redactor.redact(`${DB} and ${API}`), '*** and ***')

    const report = secretsReportSchema.parse(ctx.output.secrets)
    assert.deepEqual(report, {
      provider: '1password',
      source: 'op',
      variables: ['ACME_DB_PASSWORD', 'ANTHROPIC_API_KEY'],
      defaulted: [],
      unset: [],
      item: 'acme-dev',
    })
    const printed = JSON.stringify({ output: ctx.output, log: ctx.log.lines, state: ctx.state, env: ctx.env })
    for (const secret of [DB, API]) {
      assert.equal(printed.includes(secret), false, 'a value reached output, logs or state')
      assert.deepEqual(filesContaining(worktree, secret), [], 'a value reached a file in the worktree')
      assert.deepEqual(filesContaining(ctx.home, secret), [], 'a value reached a file in BERTH_HOME')
      assert.equal(op.logText().includes(secret), false, 'a value reached the argv of op')
    }
    assert.deepEqual(argvHits, [], 'a value was in some process argv')
    assert.ok(
      ctx.log.lines.some(
        (line) => line.level === 'info' && /loaded ACME_DB_PASSWORD, ANTHROPIC_API_KEY/.test(line.message),
      ),
    )
  })

  it('undo removes the variables it set and restores values that were there before', async () => {
    const op = standinOp(ITEMS)
    const ctx = makeContext({ secrets: SECTION })
    ctx.secretEnv.ACME_DB_PASSWORD = 'from-an-earlier-step'
    ctx.secretEnv.UNRELATED = 'kept'
    const step = loadStep(op.env)
    await step.run(ctx)
    assert.equal(ctx.secretEnv.ACME_DB_PASSWORD, DB)
    await step.undo(ctx)
    assert.deepEqual(ctx.secretEnv, { ACME_DB_PASSWORD: 'from-an-earlier-step', UNRELATED: 'kept' })
    assert.equal(ctx.output.secrets, undefined)
  })

  it('uses the insecure defaults with one warning for --no-secrets, without calling op', async () => {
    const op = standinOp(ITEMS)
    const ctx = makeContext({ secrets: SECTION, flags: { 'no-secrets': true } })
    await loadStep(op.env).run(ctx)
    assert.deepEqual(ctx.secretEnv, { ACME_DB_PASSWORD: 'localdev' })
    assert.deepEqual(op.calls(), [])
    const warnings = ctx.log.lines.filter((line) => line.level === 'warn')
    assert.equal(warnings.length, 1)
    assert.match(warnings[0]?.message ?? '', /--no-secrets.*ACME_DB_PASSWORD.*ANTHROPIC_API_KEY has no default/)
    assert.deepEqual(ctx.output.secrets, {
      provider: '1password',
      source: 'defaults',
      variables: ['ACME_DB_PASSWORD'],
      defaulted: ['ACME_DB_PASSWORD'],
      unset: ['ANTHROPIC_API_KEY'],
      reason: '--no-secrets was given',
    })
  })

  it('refuses --no-secrets for the local-prod instance', async () => {
    const op = standinOp(ITEMS)
    const ctx = makeContext({
      secrets: SECTION,
      flags: { 'no-secrets': true },
      instance: { kind: 'local-prod', slot: 0 },
    })
    await assert.rejects(loadStep(op.env).run(ctx), UsageError)
    assert.deepEqual(ctx.secretEnv, {})
  })

  it('refuses the local-prod instance with exit 4 when op is signed out', async () => {
    const op = standinOp(ITEMS, { OP_STANDIN_SIGNED_OUT: '1' })
    const ctx = makeContext({ secrets: SECTION, instance: { kind: 'local-prod', slot: 0 } })
    await assert.rejects(
      loadStep(op.env).run(ctx),
      (error) => error instanceof EnvironmentError && error.exitCode === 4,
    )
    assert.deepEqual(ctx.secretEnv, {})
  })

  it('loads nothing and says nothing when the config has no secrets section', async () => {
    const ctx = makeContext()
    await loadStep(process.env).run(ctx)
    assert.deepEqual(ctx.secretEnv, {})
    assert.deepEqual(ctx.log.lines, [])
    assert.deepEqual(ctx.output.secrets, { provider: 'none', source: 'none', variables: [], defaulted: [], unset: [] })
  })

  it('reads an env file outside the repository and refuses one inside the worktree', async () => {
    const repo = gitRepo()
    const outside = join(tempDir(), 'acme.env')
    writeFileSync(outside, `DB_PASSWORD=${DB}\n`)
    const inside = join(repo, 'secrets.env')
    writeFileSync(inside, `DB_PASSWORD=${DB}\n`)
    const section = (file: string) => ({ provider: 'env-file', file, fields: { DB_PASSWORD: 'ACME_DB_PASSWORD' } })

    const ok = makeContext({ secrets: section(outside), root: repo })
    await loadStep(process.env).run(ok)
    assert.deepEqual(ok.secretEnv, { ACME_DB_PASSWORD: DB })
    assert.equal(JSON.stringify(ok.output).includes(DB), false)

    const refused = makeContext({ secrets: section('secrets.env'), root: repo })
    await assert.rejects(
      loadStep(process.env).run(refused),
      (error) => error instanceof UsageError && /inside the repository/.test(error.message),
    )

    // A worktree elsewhere counts too: ctx.repo.checkout / ctx.instance.path are checked, not just the config root.
    const worktree = gitRepo()
    const inWorktree = join(worktree, 'secrets.env')
    writeFileSync(inWorktree, `DB_PASSWORD=${DB}\n`)
    const other = makeContext({ secrets: section(inWorktree), root: repo, instance: { path: worktree } })
    await assert.rejects(loadStep(process.env).run(other), UsageError)
  })
})

describe('secrets.load config errors', () => {
  it('reports an invalid secrets section with its path and exit 2', async () => {
    const ctx = makeContext({ secrets: { provider: '1password', item: 'x', fields: { db_password: 'db-password' } } })
    await assert.rejects(loadStep(process.env).run(ctx), (error) => {
      assert.ok(error instanceof ConfigError)
      assert.equal(error.exitCode, 2)
      assert.deepEqual(error.problems, [
        'secrets.fields.db_password: "db-password" must be an environment variable name: A-Z, 0-9 and _, not starting with a digit',
      ])
      return true
    })
  })
})
