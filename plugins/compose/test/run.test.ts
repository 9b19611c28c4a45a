import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { InterruptedError, OperationError, processGroupAlive, Redactor, UsageError } from '@berth/contract'
import { assertComposeOk, type ComposeResult, composeFailureHint, runCompose } from '../src/index.js'

const result = (overrides: Partial<ComposeResult>): ComposeResult => ({
  argv: ['docker-compose', 'up'],
  exitCode: 1,
  stdout: '',
  stderr: '',
  interrupted: false,
  ...overrides,
})

describe('compose failures say what happened', () => {
  test('an interrupted compose command is "interrupted" (exit 130), not "compose was killed"', () => {
    assert.throws(
      () => assertComposeOk(result({ exitCode: null, interrupted: true }), 'compose up of p', new Redactor()),
      (error: unknown) => {
        assert.ok(error instanceof InterruptedError)
        assert.equal(error.exitCode, 130)
        assert.equal(error.message, 'interrupted: compose up of p was stopped')
        return true
      },
    )
  })

  test("the engine's exhausted address pools get a hint about networks, not about logs", () => {
    const output =
      'Creating network "p_default" with the default driver\nERROR: could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network'
    assert.throws(
      () => assertComposeOk(result({ stderr: output }), 'compose up of p', new Redactor()),
      (error: unknown) => {
        assert.ok(error instanceof OperationError)
        assert.match(error.hint ?? '', /no free address range for another network/)
        assert.match(error.hint ?? '', /berth doctor/)
        assert.doesNotMatch(error.hint ?? '', /sandbox logs/)
        return true
      },
    )
    assert.match(
      composeFailureHint('ERROR: for db  Cannot start service db: port is already allocated'),
      /sandbox logs/,
    )
  })

  test("compose refusing the files (a ${X:?…} variable unset, a key it does not accept, a missing env_file) is a usage error (exit 2) in both flavours' words", () => {
    const refusals = [
      'error while interpolating services.api.ports.[]: required variable API_PORT is missing a value: set API_PORT in .env',
      `Missing mandatory value for "ports" option interpolating ['127.0.0.1:\${API_PORT:?set API_PORT in .env}:8000'] in service "api": set API_PORT in .env`,
      'env file /src/app-impl-a/.env.local not found: stat /src/app-impl-a/.env.local: no such file or directory',
      "ERROR: Couldn't find env file: /src/app-impl-a/.env.local",
      'validating /src/app-impl-a/.sandbox/compose.yaml: services.web Additional property restartt is not allowed',
      "The Compose file '/src/app-impl-a/.sandbox/compose.yaml' is invalid because:\nUnsupported config option for services.web: 'restartt'",
    ]
    for (const output of refusals) {
      assert.throws(
        () => assertComposeOk(result({ stderr: output }), 'compose up of p', new Redactor()),
        (error: unknown) => {
          assert.ok(error instanceof UsageError, output)
          assert.equal(error.exitCode, 2)
          assert.equal(error.code, 'E_COMPOSE_INPUT')
          assert.ok(error.message.includes(output), 'compose’s own words are in the message')
          assert.doesNotMatch(error.hint ?? '', /sandbox logs/)
          return true
        },
      )
    }
  })
})

describe('compose runs in its own process group', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-compose-group-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('an abort ends compose and every process it started before runCompose returns', async () => {
    // A stand-in "compose" that starts a grandchild (as compose starts helpers) and waits.
    const fake = join(dir, 'fake-compose')
    writeFileSync(fake, `#!/bin/sh\nsleep 300 &\necho $! > "${dir}/grandchild"\nwait\n`, { mode: 0o755 })
    const abort = new AbortController()
    const running = runCompose(['up'], {
      flavour: { flavour: 'v1', command: [fake], label: 'fake-compose', version: '' },
      target: { project: 'p', files: [] },
      cwd: dir,
      env: process.env,
      signal: abort.signal,
    })
    const deadline = Date.now() + 10_000
    let grandchild = 0
    while (Date.now() < deadline && !grandchild) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      try {
        grandchild = Number((await import('node:fs')).readFileSync(join(dir, 'grandchild'), 'utf8').trim())
      } catch {}
    }
    assert.ok(grandchild > 0, 'the grandchild started')
    const pgid = Number(
      (await import('node:fs')).readFileSync(`/proc/${grandchild}/stat`, 'utf8').split(') ')[1]!.split(' ')[2],
    )
    assert.notEqual(pgid, process.pid, 'compose is not in berth’s process group')
    abort.abort()
    const outcome = await running
    assert.equal(outcome.interrupted, true)
    assert.equal(processGroupAlive(pgid), false, 'nothing of the group is left')
  })
})
