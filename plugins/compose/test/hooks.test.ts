import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { OperationError, type TaskContext, UsageError } from '@berth/contract'
import { makeTestContext, runStep } from '@berth/contract/testing'
import {
  composePlugin,
  composeProjectName,
  type HookRun,
  hookStateFile,
  hooksConfigSchema,
  hooksSection,
  isFresh,
  sweepProject,
} from '../src/index.js'
import { makeInstance } from './helpers/context.js'
import { ensureTestImage, TEST_IMAGE, uniqueProject } from './helpers/engine.js'

function problems(input: unknown): string[] {
  const result = hooksConfigSchema.safeParse(input)
  assert.equal(result.success, false)
  return result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).sort()
}

describe('hooks config', () => {
  test('a missing section is no hooks; exec, no env and a 300 s timeout by default', () => {
    assert.deepEqual(hooksConfigSchema.parse(undefined), [])
    const [hook] = hooksConfigSchema.parse([
      { name: 'migrate', when: 'after-up', service: 'api', command: 'make migrate' },
    ])
    assert.deepEqual(hook, {
      name: 'migrate',
      when: 'after-up',
      service: 'api',
      mode: 'exec',
      command: 'make migrate',
      after: [],
      waitFor: [],
      env: [],
      timeout: 300,
    })
  })

  test('every mistake is reported at once with its path', () => {
    assert.deepEqual(
      problems([
        { name: 'seed', when: 'fresh-volume', service: 'api', command: ['seed'] },
        { name: 'seed2', when: 'after-up', service: 'api', command: ['x'], volume: 'data' },
        { name: 'dump', when: 'before-down', service: 'db', mode: 'run', command: 'pg_dump' },
        { name: 'late', when: 'before-down', service: 'db', after: ['db'], command: 'x' },
        { name: 'bad env', when: 'at-noon', service: 'a b', command: [], env: ['1X'] },
      ]),
      [
        '0.volume: a fresh-volume hook names the volume whose creation triggers it (its key under volumes:)',
        '1.volume: volume applies to fresh-volume hooks only',
        '2.mode: before-down hooks run in the running stack (mode "exec"): down loads no secrets, so a one-off container would not get them',
        '3.after: before-down hooks run in the stack as it is (a service that is not running is skipped): no after or waitFor',
        '4.command: Too small: expected array to have >=1 items',
        '4.env.0: must be an environment variable name',
        '4.name: must be a short name ([A-Za-z0-9._-])',
        '4.service: must be a compose service name',
        '4.when: Invalid option: expected one of "after-up"|"fresh-volume"|"before-down"',
      ],
    )
  })

  test('two hooks of one name are refused', () => {
    assert.deepEqual(
      problems([
        { name: 'seed', when: 'after-up', service: 'api', command: 'a' },
        { name: 'seed', when: 'after-up', service: 'api', command: 'b' },
      ]),
      ['1.name: duplicate hook name "seed" (also hooks[0])'],
    )
  })

  test('a volume is fresh when this up created it, or while its hook is still pending for it', () => {
    const state = {
      version: 2 as const,
      fresh: { seed: { volume: 'p_data', state: 'pending' as const, at: '' } },
    }
    assert.equal(isFresh({ version: 2, fresh: {} }, 'seed', 'p_data', true), true)
    assert.equal(isFresh({ version: 2, fresh: {} }, 'seed', 'p_data', false), false)
    assert.equal(isFresh(state, 'seed', 'p_data', false), true)
    assert.equal(isFresh(state, 'seed', 'q_data', false), false)
    assert.equal(
      isFresh({ version: 2, fresh: { seed: { ...state.fresh.seed, state: 'done' } } }, 'seed', 'p_data', false),
      false,
    )
  })
})

/** The test image has busybox alone: no `sh` on PATH. */
const sh = (script: string): string[] => ['/bin/busybox', 'sh', '-c', script]

const STACK = `services:
  app:
    image: ${TEST_IMAGE}
    command: ["/bin/busybox", "sleep", "3600"]
    stop_signal: SIGKILL
    environment:
      APP_SECRET: "\${APP_SECRET}"
    volumes:
      - data:/data
volumes:
  data: {}
`

describe('hooks and exec against the real engine (the detected compose flavour)', () => {
  const project = uniqueProject('hooktest')
  const secret = `hook-secret-${Date.now()}`
  const output = { stdout: '', stderr: '' }
  const recorder = (stream: 'stdout' | 'stderr') => ({
    write(text: string | Uint8Array): boolean {
      output[stream] += String(text)
      return true
    },
  })
  const plugin = composePlugin({ logsOutput: { stdout: recorder('stdout'), stderr: recorder('stderr') } })
  let root: string

  const context = (hooks: unknown[], extra: { positionals?: string[]; flags?: Record<string, unknown> } = {}) => {
    const ctx = makeTestContext({
      root,
      project: 'hooktest',
      instance: makeInstance(project, root),
      env: { INSTANCE_ID: project, SLOT_NUMBER: '1', HOOK_NOTE: 'from-env-sandbox' },
      secretEnv: { APP_SECRET: secret },
      sections: { hooks },
      config: [hooksSection],
      flags: extra.flags ?? {},
      positionals: extra.positionals ?? [],
    })
    ctx.redactor.add(secret)
    return ctx
  }
  const hooks = (ctx: TaskContext) => ctx.output.hooks as HookRun[]

  before(async () => {
    await ensureTestImage()
    root = mkdtempSync(join(tmpdir(), 'berth-compose-hooks-'))
    writeFileSync(join(root, 'docker-compose.yml'), STACK)
  })
  after(async () => {
    await sweepProject(composeProjectName(project)).catch(() => {})
    if (root) rmSync(root, { recursive: true, force: true })
  })

  test('after-up hooks run in order in the service with the variables they name; a fresh-volume hook runs once per new volume', async () => {
    const config = [
      {
        name: 'first',
        when: 'after-up',
        service: 'app',
        env: ['HOOK_NOTE'],
        command: sh('echo "note=$HOOK_NOTE secret=$APP_SECRET"'),
      },
      {
        name: 'seed',
        when: 'fresh-volume',
        volume: 'data',
        service: 'app',
        command: sh('test ! -e /data/seeded && /bin/busybox date > /data/seeded && echo seeded'),
      },
    ]
    const up = context(config)
    await runStep(plugin.steps.up, up)
    await runStep(plugin.steps.afterUp, up)
    assert.deepEqual(
      hooks(up).map((run) => [run.name, run.status, run.exitCode, run.output]),
      [
        ['first', 'passed', 0, 'note=from-env-sandbox secret=***'],
        ['seed', 'passed', 0, 'seeded'],
      ],
    )
    assert.equal(hooks(up)[1]?.volume, `${composeProjectName(project)}_data`)
    assert.match(readFileSync(hookStateFile(root), 'utf8'), /"state": "done"/)

    // A second up on the same volume: the seed would fail now (the file exists) — it is skipped.
    const again = context(config)
    await runStep(plugin.steps.up, again)
    await runStep(plugin.steps.afterUp, again)
    assert.deepEqual(
      hooks(again).map((run) => [run.name, run.status]),
      [
        ['first', 'passed'],
        ['seed', 'skipped'],
      ],
    )
    assert.match(hooks(again)[1]?.reason ?? '', /is not fresh/)
  })

  test('a failing hook throws E_HOOK with its output tail and keeps its record; --no-hooks skips them', async () => {
    const ctx = context([
      {
        name: 'broken',
        when: 'after-up',
        service: 'app',
        command: sh('echo about to fail; echo "oops $APP_SECRET" >&2; exit 7'),
      },
    ])
    const error = await runStep(plugin.steps.afterUp, ctx).then(
      () => assert.fail('the hook should fail'),
      (thrown: unknown) => thrown,
    )
    assert.ok(error instanceof OperationError)
    assert.equal(error.code, 'E_HOOK')
    assert.match(error.message, /^hook broken \(after-up, exec in app\) exited 7; last lines of its output:\n/)
    assert.match(error.message, /about to fail/)
    assert.match(error.message, /oops \*\*\*/)
    assert.ok(!error.message.includes(secret))
    assert.deepEqual(
      hooks(ctx).map((run) => [run.name, run.status, run.exitCode]),
      [['broken', 'failed', 7]],
    )

    const skipped = context([{ name: 'broken', when: 'after-up', service: 'app', command: sh('exit 7') }], {
      flags: { 'no-hooks': true },
    })
    await runStep(plugin.steps.afterUp, skipped)
    assert.equal(skipped.output.hooks, undefined)
  })

  test('a variable a hook names but the instance lacks is a usage error', async () => {
    const ctx = context([
      { name: 'needs', when: 'after-up', service: 'app', env: ['NOT_SET_ANYWHERE'], command: ['/bin/busybox', 'true'] },
    ])
    await assert.rejects(runStep(plugin.steps.afterUp, ctx), (error: unknown) => {
      return error instanceof UsageError && /NOT_SET_ANYWHERE is not set for this instance/.test(error.message)
    })
  })

  test('before-down hooks run in the running stack, and one whose service is not running is skipped', async () => {
    const ctx = context([
      { name: 'dump', when: 'before-down', service: 'app', command: ['/bin/busybox', 'ls', '/data'] },
      { name: 'ghost', when: 'before-down', service: 'nosuch', command: 'true' },
    ])
    await runStep(plugin.steps.beforeDown, ctx)
    assert.deepEqual(
      hooks(ctx).map((run) => [run.name, run.status, run.output]),
      [
        ['dump', 'passed', 'seeded'],
        ['ghost', 'skipped', ''],
      ],
    )
  })

  test('exec runs a command in the service with its exit code and redacted output; an unknown service is a usage error', async () => {
    output.stdout = ''
    const ctx = context([], { positionals: ['app', ...sh('echo "value=$APP_SECRET"; exit 5')] })
    await runStep(plugin.steps.exec, ctx)
    assert.equal(ctx.exitCode, 5)
    assert.equal(output.stdout, 'value=***\n')
    assert.equal((ctx.output.exec as { exitCode: number }).exitCode, 5)

    const unknown = context([], { positionals: ['nosuch', 'true'] })
    await assert.rejects(
      runStep(plugin.steps.exec, unknown),
      (error: unknown) => error instanceof UsageError && /has no service "nosuch"/.test(error.message),
    )
    const empty = context([], { positionals: ['app'] })
    await assert.rejects(runStep(plugin.steps.exec, empty), /no command to run in app/)
  })
})
