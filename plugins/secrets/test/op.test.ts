import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { EnvironmentError, OperationError } from '@berth/contract'
import { findItemField, findOp, opItemGet, opSignedIn, opVersion } from '../src/index.js'
import { cleanup, envWithoutOp, isAlive, STANDIN_BIN, standinOp } from './helpers.js'

const exec = promisify(execFile)
after(cleanup)

const SECRET = 'hunter2-7f3a'
const ITEMS = {
  'acme-dev': {
    db_password: { value: SECRET, type: 'CONCEALED' },
    password: 'login-pass-9c1d',
    api_host: { value: 'api.internal', type: 'STRING', id: 'hostfieldid00000000000000' },
  },
}

describe('the stand-in op', () => {
  it('speaks the real arguments and prints the real item JSON shape', async () => {
    const op = standinOp(ITEMS)
    const run = (...args: string[]) => exec(join(STANDIN_BIN, 'op'), args, { env: op.env })
    assert.match((await run('--version')).stdout, /^2\.\d+\.\d+\n$/)
    const who = JSON.parse((await run('whoami', '--format', 'json')).stdout)
    assert.equal(typeof who.email, 'string')
    const item = JSON.parse((await run('item', 'get', 'acme-dev', '--format', 'json', '--vault', 'Dev')).stdout)
    assert.equal(item.title, 'acme-dev')
    assert.equal(item.vault.name, 'Dev')
    assert.match(item.id, /^[a-z2-7]{26}$/)
    const password = item.fields.find((f: { id: string }) => f.id === 'password')
    assert.deepEqual(
      { type: password.type, purpose: password.purpose, label: password.label },
      { type: 'CONCEALED', purpose: 'PASSWORD', label: 'password' },
    )
    const db = item.fields.find((f: { label: string }) => f.label === 'db_password')
    assert.equal(db.section.label, 'secrets')
    assert.equal(db.reference, 'op://Dev/acme-dev/secrets/db_password')
    // The item can be fetched by its id too, like the real CLI.
    const byId = JSON.parse((await run('item', 'get', item.id, '--format=json')).stdout)
    assert.equal(byId.title, 'acme-dev')
  })

  it('fails like the real CLI when signed out, for an unknown item, and for an unknown command', async () => {
    const op = standinOp(ITEMS)
    const run = (env: NodeJS.ProcessEnv, ...args: string[]) => exec(join(STANDIN_BIN, 'op'), args, { env })
    await assert.rejects(
      run({ ...op.env, OP_STANDIN_SIGNED_OUT: '1' }, 'whoami', '--format', 'json'),
      (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1)
        assert.match(error.stderr, /^\[ERROR\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d account is not signed in\n$/)
        return true
      },
    )
    await assert.rejects(run(op.env, 'item', 'get', 'nope', '--format', 'json'), (error: { stderr: string }) => {
      assert.match(error.stderr, /"nope" isn't an item\. Specify the item with its UUID, name, or domain\./)
      return true
    })
    await assert.rejects(run(op.env, 'signin'), (error: { stderr: string }) => /unknown command/.test(error.stderr))
  })

  it('logs the argv of every call and never a value', async () => {
    const op = standinOp(ITEMS)
    await exec(join(STANDIN_BIN, 'op'), ['item', 'get', 'acme-dev', '--format', 'json'], { env: op.env })
    assert.deepEqual(
      op.calls().map((call) => call.argv),
      [['item', 'get', 'acme-dev', '--format', 'json']],
    )
    assert.equal(op.logText().includes(SECRET), false)
  })
})

describe('opSignedIn', () => {
  it('reports signed in through op whoami', async () => {
    const op = standinOp(ITEMS)
    const status = await opSignedIn({ env: op.env })
    assert.equal(status.signedIn, true)
    assert.equal(status.signedIn && status.via, 'whoami')
    assert.deepEqual(
      op.calls().map((c) => c.argv),
      [['whoami', '--format', 'json']],
    )
  })

  it('passes --account to whoami', async () => {
    const op = standinOp(ITEMS)
    await opSignedIn({ env: op.env, account: 'acme' })
    assert.deepEqual(op.calls()[0]?.argv, ['whoami', '--format', 'json', '--account', 'acme'])
  })

  it('confirms a failed whoami with vault list, for the 1Password app integration that whoami does not see', async () => {
    const op = standinOp(ITEMS, { OP_STANDIN_DESKTOP: '1' })
    const status = await opSignedIn({ env: op.env })
    assert.equal(status.signedIn && status.via, 'vault list')
  })

  it("reports signed out with op's own reason", async () => {
    const op = standinOp(ITEMS, { OP_STANDIN_SIGNED_OUT: '1' })
    const status = await opSignedIn({ env: op.env })
    assert.deepEqual(status, {
      signedIn: false,
      installed: true,
      opPath: join(STANDIN_BIN, 'op'),
      reason: 'account is not signed in',
    })
  })

  it('reports op missing from PATH without running anything', async () => {
    const status = await opSignedIn({ env: envWithoutOp() })
    assert.equal(status.signedIn, false)
    assert.equal(!status.signedIn && status.installed, false)
    assert.equal(findOp({ env: envWithoutOp() }), null)
    assert.equal(await opVersion({ env: envWithoutOp() }), null)
  })

  it('kills a whoami that outlives the timeout and counts it as signed out', async () => {
    const op = standinOp(ITEMS, { OP_STANDIN_DELAY_MS: '10000' })
    const started = Date.now()
    const status = await opSignedIn({ env: op.env, timeoutMs: 400 })
    const took = Date.now() - started
    assert.equal(status.signedIn, false)
    assert.match(!status.signedIn ? status.reason : '', /did not answer within 0\.4s/)
    assert.ok(took < 400 + 1500, `took ${took} ms`)
    assert.equal(op.calls().length, 1, 'no second probe after a timeout')
    const pid = op.calls()[0]?.pid ?? 0
    assert.equal(isAlive(pid), false, `op (pid ${pid}) still runs`)
  })
})

describe('opItemGet', () => {
  it('returns the item with concealed and string fields, found by label then id', async () => {
    const op = standinOp(ITEMS)
    const item = await opItemGet('acme-dev', { env: op.env, vault: 'Dev', account: 'acme' })
    assert.deepEqual(op.calls()[0]?.argv, [
      'item',
      'get',
      'acme-dev',
      '--format',
      'json',
      '--vault',
      'Dev',
      '--account',
      'acme',
    ])
    assert.equal(findItemField(item, 'db_password')?.value, SECRET)
    assert.equal(findItemField(item, 'db_password')?.type, 'CONCEALED')
    assert.equal(findItemField(item, 'api_host')?.type, 'STRING')
    assert.equal(findItemField(item, 'hostfieldid00000000000000')?.value, 'api.internal')
    assert.equal(findItemField(item, 'password')?.value, 'login-pass-9c1d')
    assert.equal(findItemField(item, 'nothing'), undefined)
  })

  it('prefers a field whose label matches over one whose id matches', async () => {
    const op = standinOp({ it: { first: { value: 'by-id', id: 'token' }, token: { value: 'by-label' } } })
    const item = await opItemGet('it', { env: op.env })
    assert.equal(findItemField(item, 'token')?.value, 'by-label')
  })

  it('asks again with --reveal when op (2.30+) conceals the values', async () => {
    const op = standinOp(ITEMS, { OP_STANDIN_CONCEAL: '1' })
    const item = await opItemGet('acme-dev', { env: op.env })
    assert.equal(findItemField(item, 'db_password')?.value, SECRET)
    assert.deepEqual(
      op.calls().map((c) => c.argv.at(-1)),
      ['json', '--reveal'],
    )
  })

  it("fails naming the item and quoting op's error for an unknown item", async () => {
    const op = standinOp(ITEMS)
    await assert.rejects(opItemGet('acme-prod', { env: op.env }), (error) => {
      assert.ok(error instanceof OperationError)
      assert.equal(error.exitCode, 1)
      assert.match(error.message, /op item get "acme-prod" failed: "acme-prod" isn't an item/)
      return true
    })
  })

  it('throws an environment error when op is missing', async () => {
    await assert.rejects(opItemGet('acme-dev', { env: envWithoutOp() }), (error) => {
      assert.ok(error instanceof EnvironmentError)
      assert.equal(error.exitCode, 4)
      return true
    })
  })

  it('kills a slow op item get within the timeout plus a small margin', async () => {
    const op = standinOp(ITEMS, { OP_STANDIN_DELAY_MS: '20000', OP_STANDIN_DELAY_ON: 'item' })
    const started = Date.now()
    await assert.rejects(opItemGet('acme-dev', { env: op.env, timeoutMs: 500 }), (error) => {
      assert.ok(error instanceof OperationError)
      assert.equal(error.code, 'E_OP_TIMEOUT')
      assert.match(error.message, /did not answer within 0\.5s and was killed/)
      return true
    })
    const took = Date.now() - started
    assert.ok(took >= 500 && took < 500 + 1500, `took ${took} ms`)
    const pid = op.calls()[0]?.pid ?? 0
    assert.ok(pid > 0)
    assert.equal(isAlive(pid), false, `op (pid ${pid}) still runs`)
  })

  it('stops a call when the task is aborted', async () => {
    const op = standinOp(ITEMS, { OP_STANDIN_DELAY_MS: '20000' })
    const controller = new AbortController()
    const started = Date.now()
    setTimeout(() => controller.abort(), 300)
    await assert.rejects(opItemGet('acme-dev', { env: op.env, signal: controller.signal, timeoutMs: 10_000 }))
    assert.ok(Date.now() - started < 3000)
    await new Promise((r) => setTimeout(r, 200))
    for (const call of op.calls()) assert.equal(isAlive(call.pid), false, `op (pid ${call.pid}) still runs`)
  })
})
