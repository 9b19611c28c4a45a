import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { engineRequest, listComposeContainers } from '@berth/engine'
import { secretsPlugin } from '../src/index.js'
import { cleanup, filesContaining, gitRepo, makeContext, processesWithArgv, standinOp, tempDir } from './helpers.js'

const exec = promisify(execFile)
const suffix = Math.random().toString(36).slice(2, 8)
const project = `berth-secrets-${suffix}`
const image = `berth-secrets-test:${suffix}`
const DB = `Yy4-db-Secret-${suffix}`
const API = `Yy4-api-Key-${suffix}`

let worktree = ''
after(async () => {
  if (worktree)
    await exec('docker-compose', ['-p', project, 'down', '-v', '-t', '0'], { cwd: worktree }).catch(() => {})
  await exec('docker', ['rmi', '-f', image]).catch(() => {})
  cleanup()
})

/** A `FROM scratch` image holding a static busybox: builds with no registry. */
async function buildImage(): Promise<void> {
  const context = tempDir('berth-secrets-image-')
  mkdirSync(join(context, 'root', 'bin'), { recursive: true })
  copyFileSync('/bin/busybox', join(context, 'root', 'bin', 'busybox'))
  writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY root/ /\nENTRYPOINT ["/bin/busybox"]\n')
  await exec('docker', ['build', '-q', '-t', image, context])
}

/** Runs docker-compose with the secrets as its environment only, watching every process's argv meanwhile. */
function composeUp(cwd: string, env: NodeJS.ProcessEnv): Promise<{ output: string; argvHits: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker-compose', ['-p', project, 'up', '-d'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const argvHits: string[] = []
    const watcher = setInterval(() => argvHits.push(...processesWithArgv(DB), ...processesWithArgv(API)), 20)
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => {
      clearInterval(watcher)
      if (code === 0) resolve({ output, argvHits })
      else reject(new Error(`docker-compose up exited ${code}: ${output}`))
    })
  })
}

describe('secrets in a real compose project', () => {
  it('reach the containers through the compose process environment, and no file, argv or output', async () => {
    await buildImage()
    worktree = gitRepo()
    writeFileSync(
      join(worktree, 'compose.yaml'),
      [
        'services:',
        '  app:',
        `    image: ${image}`,
        '    command: ["sleep", "300"]',
        '    environment:',
        '      - ACME_DB_PASSWORD',
        '      - ANTHROPIC_API_KEY',
        '',
      ].join('\n'),
    )
    const op = standinOp({ 'acme-dev': { db_password: DB, anthropic_api_key: API } })
    const ctx = makeContext({
      root: worktree,
      instance: { kind: 'impl', path: worktree, id: project },
      secrets: {
        provider: '1password',
        item: 'acme-dev',
        fields: { db_password: 'ACME_DB_PASSWORD', anthropic_api_key: 'ANTHROPIC_API_KEY' },
      },
    })
    await secretsPlugin({ env: op.env }).steps.load?.run(ctx)

    const { output, argvHits } = await composeUp(worktree, { ...process.env, ...ctx.env, ...ctx.secretEnv })

    const [container] = (await listComposeContainers()).filter(
      (c) => c.Labels['com.docker.compose.project'] === project,
    )
    assert.ok(container, 'the compose project has a container')
    const inspect = await engineRequest<{ Config: { Env: string[] } }>(`/containers/${container.Id}/json`)
    assert.ok(inspect.Config.Env.includes(`ACME_DB_PASSWORD=${DB}`))
    assert.ok(inspect.Config.Env.includes(`ANTHROPIC_API_KEY=${API}`))

    assert.deepEqual(argvHits, [], 'a value was in the argv of some process')
    for (const secret of [DB, API]) {
      assert.deepEqual(filesContaining(worktree, secret), [], 'a value was written under the worktree')
      assert.deepEqual(filesContaining(ctx.home, secret), [], 'a value was written under BERTH_HOME')
      assert.equal(output.includes(secret), false, 'a value was printed by docker-compose')
      assert.equal(JSON.stringify([ctx.output, ctx.log.lines]).includes(secret), false, 'a value reached berth output')
      assert.equal(op.logText().includes(secret), false, 'a value reached the argv of op')
    }
  })
})
