import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ConflictError, OperationError, type TaskContext } from '@berth/contract'
import {
  collectEvidence,
  type EvidenceManifest,
  evidenceManifestSchema,
  evidencePlugin,
  listBundles,
} from '../src/index.js'
import {
  type ContextInput,
  compose,
  composeLogsService,
  ensureTestImage,
  filesContaining,
  gitCheckout,
  makeContext,
  makeInstance,
  TEST_IMAGE,
  tempDir,
  uniqueProject,
  walk,
} from './helpers.js'

/** A web server that prints its secret at start (as a careless service might) and a sleeper. */
const COMPOSE = `services:
  web:
    image: ${TEST_IMAGE}
    command: ["/bin/busybox", "sh", "-c", "echo token=$$TEST_SECRET; echo web ready; exec /bin/busybox httpd -f -p 8080 -h /www"]
    stop_signal: SIGKILL
    environment:
      TEST_SECRET: "\${TEST_SECRET}"
  sleeper:
    image: ${TEST_IMAGE}
    command: ["/bin/busybox", "sh", "-c", "echo sleeper up; exec /bin/busybox sleep 3600"]
    stop_signal: SIGKILL
`

describe('evidence bundles of a running compose project (real engine, real git)', () => {
  const root = tempDir()
  const checkout = join(root, 'checkout')
  const id = uniqueProject('evidencetest')
  const secret = `sekrit-${randomBytes(8).toString('hex')}`
  const oldGate = '20200101T000000Z'

  /** Like `berth evidence`: no secrets loaded in this process, so the redactor starts empty. */
  const contextFor = (extra: Partial<ContextInput> = {}): TaskContext & { logs: { message: string }[] } => {
    const holder: { ctx?: TaskContext } = {}
    const ctx = makeContext({
      root: checkout,
      home: join(root, 'home'),
      instance: makeInstance(id, checkout),
      sections: { secrets: { fields: { token: 'TEST_SECRET' } }, evidence: { keep: 3 } },
      services: {
        serviceLogs: (services, tail) => composeLogsService(checkout, id, holder.ctx!.redactor)!(services, tail),
      },
      ...extra,
    })
    holder.ctx = ctx
    return ctx
  }

  before(async () => {
    await ensureTestImage()
    mkdirSync(checkout)
    await gitCheckout(checkout, { 'compose.yaml': COMPOSE, 'src/app.txt': 'v1\n' })
    writeFileSync(join(checkout, '.env.sandbox'), `INSTANCE_ID=${id}\nCOMPOSE_PROJECT_NAME=${id}\nSLOT_NUMBER=1\n`)
    writeFileSync(join(checkout, 'src/app.txt'), 'v2 (uncommitted)\n')
    const artifacts = join(checkout, '.sandbox/artifacts/20260101T000000Z')
    mkdirSync(artifacts, { recursive: true })
    writeFileSync(join(artifacts, 'e2e-results.json'), '{"passed":true}\n')
    const older = join(checkout, '.sandbox/evidence', oldGate)
    mkdirSync(older, { recursive: true })
    writeFileSync(join(older, 'gate.json'), '{"passed":false,"from":"older"}\n')
    await compose(checkout, id, ['up', '-d'], { TEST_SECRET: secret })
    // The log line must exist before the bundle reads the logs.
    for (let i = 0; i < 50; i++) {
      const { stdout } = await compose(checkout, id, ['logs', '--no-color', 'web'])
      if (stdout.includes('web ready')) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })

  after(async () => {
    await compose(checkout, id, ['down', '-v', '--remove-orphans']).catch(() => {})
    rmSync(root, { recursive: true, force: true })
  })

  let manifest: EvidenceManifest

  test('a bundle holds config, .env.sandbox, containers, per-service logs, git state, gate report and e2e artifacts', async () => {
    const ctx = contextFor()
    await evidencePlugin().steps.collect.run(ctx)
    manifest = evidenceManifestSchema.parse(ctx.output.evidence)
    assert.match(manifest.dir, new RegExp(`^${checkout}/\\.sandbox/evidence/\\d{8}T\\d{6}Z(-\\d+)?$`))
    assert.deepEqual(manifest.problems, [])
    assert.deepEqual(
      manifest.files.map((f) => f.path),
      [
        'config.json',
        'containers.json',
        'e2e/e2e-results.json',
        'env.sandbox',
        'gate.json',
        'git.json',
        'logs/sleeper.log',
        'logs/web.log',
        'manifest.json',
      ],
    )
    // --json lists every file of the bundle, each with its true size and hash.
    assert.deepEqual(walk(manifest.dir), manifest.files.map((f) => f.path).sort())
    for (const file of manifest.files) {
      const bytes = readFileSync(join(manifest.dir, file.path))
      assert.equal(file.size, bytes.length, file.path)
      assert.equal(file.sha256, createHash('sha256').update(bytes).digest('hex'), file.path)
    }
    const read = (path: string) => readFileSync(join(manifest.dir, path), 'utf8')
    const containers = JSON.parse(read('containers.json'))
    assert.equal(containers.project, id)
    assert.deepEqual(
      containers.containers.map((c: { Labels: Record<string, string> }) => c.Labels['com.docker.compose.service']),
      ['sleeper', 'web'],
    )
    assert.match(read('logs/web.log'), /^token=\*\*\*$/m)
    assert.match(read('logs/sleeper.log'), /sleeper up/)
    assert.doesNotMatch(read('logs/sleeper.log'), /web ready/)
    const gitState = JSON.parse(read('git.json'))
    assert.equal(gitState.branch, 'main')
    assert.match(gitState.head, /^[0-9a-f]{40}$/)
    assert.ok(gitState.dirty.some((d: { path: string }) => d.path === 'src/app.txt'))
    assert.equal(read('env.sandbox'), readFileSync(join(checkout, '.env.sandbox'), 'utf8'))
    assert.equal(manifest.gateFrom, oldGate)
    assert.equal(read('gate.json'), '{"passed":false,"from":"older"}\n')
    assert.equal(manifest.e2eFrom, join(checkout, '.sandbox/artifacts/20260101T000000Z'))
    assert.equal(JSON.parse(read('config.json')).project, 'evtest')
  })

  test('no secret value appears in any file, even though this process never loaded the secrets', () => {
    assert.deepEqual(filesContaining(manifest.dir, secret), [])
  })

  test('--out writes into a new or empty folder and refuses one holding files', async () => {
    const out = join(root, 'out', 'bundle')
    const ctx = contextFor({ flags: { out } })
    await evidencePlugin().steps.collect.run(ctx)
    const written = ctx.output.evidence as EvidenceManifest
    assert.equal(written.dir, out)
    assert.ok(written.files.some((f) => f.path === 'manifest.json'))
    assert.equal(written.gateFrom, basename(manifest.dir), 'the gate report comes from the instance’s newest bundle')
    await assert.rejects(async () => evidencePlugin().steps.collect.run(contextFor({ flags: { out } })), ConflictError)
  })

  test('only the newest `keep` bundles are kept', async () => {
    for (let i = 0; i < 4; i++) await collectEvidence(contextFor())
    assert.equal((await listBundles(join(checkout, '.sandbox/evidence'))).length, 3)
  })

  test('finalize leaves a bundle after a failed gate, with this run’s report and outcome', async () => {
    const ctx = contextFor({ task: 'gate', secretEnv: { TEST_SECRET: secret } })
    ctx.output.gate = { passed: false, elapsedMs: 5, timeoutMs: 5, checks: [{ name: 'api', status: 'failed' }] }
    const error = new OperationError(`gate failed; the log said token=${secret}`, { code: 'E_GATE' })
    error.step = 'gate.wait'
    await evidencePlugin().finalize(ctx, {
      ok: false,
      error,
      timings: [{ step: 'gate.wait', ms: 5, status: 'failed' }],
    })
    const dir = ctx.output.evidenceDir as string
    assert.ok(dir && existsSync(join(dir, 'manifest.json')))
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))
    assert.equal(run.ok, false)
    assert.equal(run.exitCode, 1)
    assert.equal(run.error.code, 'E_GATE')
    assert.equal(run.error.message, 'gate failed; the log said token=***')
    assert.equal(JSON.parse(readFileSync(join(dir, 'gate.json'), 'utf8')).passed, false)
    assert.equal(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).gateFrom, 'this run')
    assert.deepEqual(filesContaining(dir, secret), [])
  })

  test('finalize records a failing e2e run’s exit code and copies this run’s artifacts only', async () => {
    const artifactsDir = join(checkout, '.sandbox/artifacts/20260102T000000Z')
    mkdirSync(artifactsDir, { recursive: true })
    writeFileSync(join(artifactsDir, 'junit.xml'), '<testsuite failures="1"/>\n')
    const ctx = contextFor({ task: 'test.e2e' })
    ctx.output.e2e = { service: 'e2e', exitCode: 1, artifactsDir, files: ['junit.xml'] }
    ctx.exitCode = 1
    await evidencePlugin().finalize(ctx, { ok: true, timings: [] })
    const dir = ctx.output.evidenceDir as string
    assert.equal(readFileSync(join(dir, 'e2e/junit.xml'), 'utf8'), '<testsuite failures="1"/>\n')
    assert.ok(!existsSync(join(dir, 'e2e/e2e-results.json')))
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))
    assert.deepEqual([run.ok, run.exitCode, run.e2e.exitCode], [false, 1, 1])
  })
})

describe('evidence without a healthy environment', () => {
  const root = tempDir()
  after(() => rmSync(root, { recursive: true, force: true }))

  test('a bundle is still written when the engine does not answer, listing what is missing', async () => {
    const checkout = join(root, 'no-engine')
    mkdirSync(checkout)
    await gitCheckout(checkout, { 'compose.yaml': COMPOSE })
    const ctx = makeContext({ root: checkout, instance: makeInstance('evidence-no-engine', checkout) })
    const saved = process.env.DOCKER_HOST
    process.env.DOCKER_HOST = `unix://${join(root, 'no-such.sock')}`
    try {
      await evidencePlugin().steps.collect.run(ctx)
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST
      else process.env.DOCKER_HOST = saved
    }
    const manifest = ctx.output.evidence as EvidenceManifest
    assert.deepEqual(manifest.files.map((f) => f.path).sort(), ['config.json', 'git.json', 'manifest.json'])
    assert.match(manifest.problems.join('\n'), /containers: Docker engine not reachable/)
    assert.match(manifest.problems.join('\n'), /env\.sandbox: .* does not exist/)
  })

  test('a bundle for an instance whose checkout is gone goes to $BERTH_HOME/evidence/<id>', async () => {
    const gone = join(root, 'removed-worktree')
    const ctx = makeContext({
      root,
      home: join(root, 'home'),
      instance: makeInstance('evidence-gone', gone),
      task: 'impl',
    })
    await evidencePlugin().finalize(ctx, {
      ok: false,
      error: new Error('gate failed'),
      timings: [{ step: 'compose.up', ms: 1, status: 'undone' }],
    })
    assert.ok(String(ctx.output.evidenceDir).startsWith(join(root, 'home', 'evidence', 'evidence-gone')))
    assert.ok(!existsSync(gone), 'the removed checkout was not recreated')
  })

  test('finalize skips other tasks, dry runs and an impl that never reached compose.up, and never throws', async () => {
    const checkout = join(root, 'skips')
    mkdirSync(checkout)
    const plugin = evidencePlugin()
    const cases: [string, Record<string, boolean>, string[]][] = [
      ['sandbox.status', {}, ['compose.status']],
      ['sandbox.up', { 'dry-run': true }, []],
      ['impl', {}, ['worktree.create', 'env.write']],
    ]
    for (const [task, flags, steps] of cases) {
      const ctx = makeContext({ root: checkout, instance: makeInstance('evidence-skip', checkout), task, flags })
      await plugin.finalize(ctx, { ok: true, timings: steps.map((step) => ({ step, ms: 1, status: 'done' })) })
      assert.equal(ctx.output.evidenceDir, undefined, task)
    }
    assert.ok(!existsSync(join(checkout, '.sandbox')))
    // A checkout path that is a file: the bundle cannot be written; finalize warns instead of throwing.
    const file = join(root, 'a-file')
    writeFileSync(file, 'x')
    const ctx = makeContext({ root, instance: makeInstance('evidence-file', file), task: 'gate' })
    await plugin.finalize(ctx, { ok: true, timings: [] })
    assert.match(ctx.logs.map((l) => l.message).join('\n'), /evidence: no bundle written/)
  })
})
