import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type GateReport, runGate } from '../src/index.js'
import { POSTGRES_IMAGE, REDIS_IMAGE, type RunningContainer, startContainer } from './helpers/containers.js'

const PASSWORD = 'gate-test-pw-7c1f'
const RESET = 'berth sandbox down --volumes && berth sandbox up'
const containers: RunningContainer[] = []

after(async () => {
  await Promise.all(containers.map((container) => container.remove()))
})

function only(report: GateReport) {
  assert.equal(report.checks.length, 1)
  return report.checks[0]!
}

describe('postgres checks against a real PostgreSQL 15', { concurrency: true }, () => {
  let db: RunningContainer
  before(async () => {
    db = await startContainer(POSTGRES_IMAGE, 5432, {
      POSTGRES_USER: 'app',
      POSTGRES_DB: 'appdb',
      POSTGRES_PASSWORD: PASSWORD,
    })
    containers.push(db)
  })

  test('a postgres check passes once the server accepts the login with the password from the secrets', async () => {
    const report = await runGate(
      [
        {
          name: 'db',
          postgres: { target: String(db.port), user: 'app', password: '${DB_PASSWORD}', database: 'appdb' },
        },
      ],
      { timeoutMs: 60_000, secretEnv: { DB_PASSWORD: PASSWORD } },
    )
    const check = only(report)
    assert.equal(check.status, 'passed', JSON.stringify(check))
    assert.equal(check.kind, 'postgres')
    assert.equal(check.target, `postgres://app@127.0.0.1:${db.port}/appdb`)
    assert.doesNotMatch(JSON.stringify(report), new RegExp(PASSWORD))
  })

  test('a refused password fails the check once it has held for 3 s, naming authentication, why, and the command that resets the volume', async () => {
    const started = performance.now()
    const report = await runGate(
      [
        {
          name: 'db',
          postgres: { target: String(db.port), user: 'app', password: 'an-old-password', database: 'appdb' },
        },
      ],
      { timeoutMs: 60_000, volumeResetCommand: RESET },
    )
    const elapsed = performance.now() - started
    const check = only(report)
    assert.equal(check.status, 'failed')
    assert.match(
      check.lastError ?? '',
      /^authentication failed: password authentication failed for user "app" \(SQLSTATE 28P01\)/,
    )
    assert.match(check.lastError ?? '', /data volume is created/)
    assert.equal(check.hint, `reset the instance's data volume (this deletes its data): ${RESET}`)
    // Not the 60 s deadline: a refused password does not get better by waiting (generous bound).
    assert.ok(elapsed < 30_000, `failed after ${Math.round(elapsed)} ms`)
    assert.doesNotMatch(JSON.stringify(report), /an-old-password/)
  })

  test('a database that does not exist fails with its own hint', async () => {
    const report = await runGate(
      [{ name: 'db', postgres: { target: String(db.port), user: 'app', password: PASSWORD, database: 'nosuchdb' } }],
      { timeoutMs: 60_000, volumeResetCommand: RESET },
    )
    const check = only(report)
    assert.equal(check.status, 'failed')
    assert.match(check.lastError ?? '', /database "nosuchdb" does not exist \(SQLSTATE 3D000\)/)
    assert.match(check.hint ?? '', /creates POSTGRES_DB only on a fresh volume/)
  })

  test('a port where nothing listens fails at the deadline with the connection error', async () => {
    const report = await runGate([{ name: 'db', postgres: { target: '127.0.0.1:1', user: 'app', password: 'x' } }], {
      timeoutMs: 1500,
    })
    const check = only(report)
    assert.equal(check.status, 'failed')
    assert.match(check.lastError ?? '', /ECONNREFUSED/)
    assert.equal(check.hint, undefined)
  })
})

describe('redis checks against a real Redis 7', { concurrency: true }, () => {
  let open: RunningContainer
  let locked: RunningContainer
  before(async () => {
    // The password reaches the locked server as a config file on stdin, as the demo does.
    ;[open, locked] = await Promise.all([
      startContainer(REDIS_IMAGE, 6379, {}),
      startContainer(REDIS_IMAGE, 6379, { REDIS_PASSWORD: PASSWORD }, [
        'sh',
        '-c',
        'exec redis-server - --bind 0.0.0.0 --protected-mode no <<EOF\nrequirepass $REDIS_PASSWORD\nEOF\n',
      ]),
    ])
    containers.push(open, locked)
  })

  test('PING answers PONG on a server without a password', async () => {
    const check = only(await runGate([{ name: 'queue', redis: open.port }], { timeoutMs: 30_000 }))
    assert.equal(check.status, 'passed', JSON.stringify(check))
    assert.equal(check.target, `redis://127.0.0.1:${open.port}`)
  })

  test('with a password, AUTH then PING passes, and the password never appears in the report', async () => {
    const report = await runGate(
      [{ name: 'queue', redis: { target: String(locked.port), password: '${REDIS_PASSWORD}' } }],
      { timeoutMs: 30_000, secretEnv: { REDIS_PASSWORD: PASSWORD } },
    )
    assert.equal(only(report).status, 'passed', JSON.stringify(report))
    assert.doesNotMatch(JSON.stringify(report), new RegExp(PASSWORD))
  })

  test('a wrong password fails as authentication, and no password fails as NOAUTH, each within seconds', async () => {
    const started = performance.now()
    const [wrong, none] = await Promise.all([
      runGate([{ name: 'queue', redis: { target: String(locked.port), password: 'not-it' } }], { timeoutMs: 60_000 }),
      runGate([{ name: 'queue', redis: locked.port }], { timeoutMs: 60_000 }),
    ])
    assert.ok(performance.now() - started < 30_000, 'not the 60 s deadline')
    assert.equal(only(wrong).status, 'failed')
    assert.match(only(wrong).lastError ?? '', /^authentication failed: WRONGPASS/)
    assert.equal(only(none).status, 'failed')
    assert.match(only(none).lastError ?? '', /the server requires a password \(NOAUTH/)
    assert.match(only(none).hint ?? '', /add redis\.password/)
  })
})
