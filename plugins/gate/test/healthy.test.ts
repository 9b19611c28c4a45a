/**
 * The `healthy` check against the real Docker engine: containers carrying compose's labels, made
 * with `docker run` from the busybox test image (no registry), each with its own healthcheck.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { ensureBusyboxTestImage } from '@berth/contract/testing'
import { type CheckResult, gateReportSchema, HealthBoard, healthOf, resolveChecks, runGate } from '../src/index.js'

const run = promisify(execFile)
const project = `gatehealth-${randomBytes(3).toString('hex')}`
let image = ''

/**
 * A detached container of `service` in the test project, with `health` as `docker run` flags. The
 * image holds only /bin/busybox: the container links /bin/sh first, for the shell-form healthcheck.
 */
async function container(service: string, health: string[], script = 'exec /bin/busybox sleep 600'): Promise<void> {
  await run('docker', [
    'run',
    '-d',
    '--name',
    `${project}-${service}-1`,
    '--label',
    `com.docker.compose.project=${project}`,
    '--label',
    `com.docker.compose.service=${service}`,
    ...health,
    image,
    '/bin/busybox',
    'sh',
    '-c',
    `/bin/busybox ln -s /bin/busybox /bin/sh; ${script}`,
  ])
}

function check(report: { checks: CheckResult[] }, name: string): CheckResult {
  const found = report.checks.find((result) => result.name === name)
  assert.ok(found, `no result for ${name}`)
  return found
}

describe('the healthy check', () => {
  before(async () => {
    image = await ensureBusyboxTestImage()
    await Promise.all([
      container('ready', ['--health-cmd', '/bin/busybox true', '--health-interval', '500ms']),
      container('sick', [
        '--health-cmd',
        'echo db not ready: role missing; exit 3',
        '--health-interval',
        '500ms',
        '--health-retries',
        '2',
      ]),
      container('slow', [
        '--health-cmd',
        'echo still warming up; exit 1',
        '--health-interval',
        '500ms',
        '--health-start-period',
        '60s',
      ]),
      container('plain', []),
      container('crashing', ['--health-cmd', '/bin/busybox true'], 'exit 7'),
    ])
  })

  after(async () => {
    const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`])
    const ids = stdout.split('\n').filter(Boolean)
    if (ids.length > 0) await run('docker', ['rm', '-f', ...ids])
  })

  test("reads the engine's health from a container's status line", () => {
    assert.equal(healthOf('Up 3 seconds (healthy)'), 'healthy')
    assert.equal(healthOf('Up 1 second (health: starting)'), 'starting')
    assert.equal(healthOf('Up 9 seconds (unhealthy)'), 'unhealthy')
    assert.equal(healthOf('Up 2 minutes'), undefined)
  })

  test('passes once every container of the service is healthy; the failing service shows in the report', async () => {
    const env = { COMPOSE_PROJECT_NAME: project }
    const report = await runGate(
      resolveChecks(
        {
          checks: [
            { name: 'ready', healthy: 'ready', after: [] },
            { name: 'sick', healthy: 'sick', after: [] },
          ],
        },
        env,
      ),
      { timeoutMs: 30_000 },
    )
    gateReportSchema.parse(report)
    assert.equal(check(report, 'ready').status, 'passed')
    assert.equal(check(report, 'ready').kind, 'healthy')
    assert.equal(check(report, 'ready').target, 'service ready')
    assert.equal(check(report, 'sick').service, 'sick', "the service's log tail explains a failure")
  })

  test("fails at once when the engine calls a container unhealthy, quoting its healthcheck's last output", async () => {
    const started = performance.now()
    const report = await runGate(
      resolveChecks({ checks: [{ name: 'db', healthy: 'sick', after: [] }] }, { COMPOSE_PROJECT_NAME: project }),
      {
        timeoutMs: 60_000,
      },
    )
    const elapsed = performance.now() - started
    const db = check(report, 'db')
    assert.equal(db.status, 'failed')
    assert.match(
      db.lastError ?? '',
      new RegExp(`${project}-sick-1 is unhealthy; its healthcheck said: "db not ready: role missing" \\(exit 3\\)`),
    )
    assert.ok(elapsed < 30_000, `failed at once, not at the 60 s deadline (took ${Math.round(elapsed)} ms)`)
  })

  test('still starting at the deadline: the failure says so with the last healthcheck output', async () => {
    const report = await runGate(
      resolveChecks({ checks: [{ name: 'warm', healthy: 'slow', after: [] }] }, { COMPOSE_PROJECT_NAME: project }),
      {
        timeoutMs: 2500,
      },
    )
    const warm = check(report, 'warm')
    assert.equal(warm.status, 'failed')
    assert.match(warm.lastError ?? '', /health: starting; its healthcheck said: "still warming up" \(exit 1\)/)
  })

  test('a service without a healthcheck, an exited container and a missing service fail with the reason', async () => {
    const started = performance.now()
    const report = await runGate(
      resolveChecks(
        {
          checks: [
            { name: 'plain', healthy: 'plain', after: [] },
            { name: 'crashing', healthy: 'crashing', after: [] },
            { name: 'absent', healthy: 'absent', after: [] },
          ],
        },
        { COMPOSE_PROJECT_NAME: project },
      ),
      { timeoutMs: 3000 },
    )
    assert.match(check(report, 'plain').lastError ?? '', /service plain has no healthcheck/)
    assert.match(check(report, 'crashing').lastError ?? '', /crashing-1 exited \(7\)/)
    assert.match(check(report, 'absent').lastError ?? '', /no container of service absent yet/)
    assert.ok(check(report, 'plain').attempts <= 2, 'no healthcheck: decided on the first look')
    assert.ok(performance.now() - started < 20_000)
  })

  test('a healthy check outside an instance is a usage error', () => {
    assert.throws(
      () => resolveChecks({ checks: [{ name: 'db', healthy: 'db', after: [] }] }, {}),
      /a healthy check needs an instance/,
    )
  })

  test("wakes a waiting check on the engine's health_status event for the project, and stops listening when closed", async () => {
    const board = new HealthBoard(project)
    try {
      assert.equal(await board.watch(), true, 'the engine accepted the event subscription')
      const since = board.version
      const woken = board.changed(since)
      assert.ok(woken, 'with the stream up a check waits for the next event')
      // A container of another service turns healthy: its health_status event wakes the board.
      await container('late', ['--health-cmd', '/bin/busybox true', '--health-interval', '300ms'])
      await woken
      assert.ok(board.version > since)
      await board.probe('late')
    } finally {
      board.close()
    }
    assert.equal(board.changed(board.version), undefined, 'closed: back to polling')
  })

  test('a gate on a service whose container starts after the gate passes once the engine reports it healthy', async () => {
    const pending = runGate(
      resolveChecks({ checks: [{ name: 'later', healthy: 'later', after: [] }] }, { COMPOSE_PROJECT_NAME: project }),
      { timeoutMs: 60_000 },
    )
    await container(
      'later',
      ['--health-cmd', '/bin/busybox true', '--health-interval', '2s'],
      'exec /bin/busybox sleep 600',
    )
    const report = await pending
    assert.equal(check(report, 'later').status, 'passed', JSON.stringify(report))
  })
})
