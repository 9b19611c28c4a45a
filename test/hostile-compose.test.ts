/**
 * Compose files of shapes berth's other tests do not cover, run by the real CLI on both compose
 * flavours: a compose file in a subfolder that builds its image (tagged per instance with
 * `compose.render.instanceImages`) and uses an external volume and network; a published port
 * guarded by `${X:?message}` that nothing sets; an `env_file` git ignores, so a new worktree lacks
 * it. Each must either run and leave nothing (but what is external) after `done`, or be refused
 * with exit 2 in the file's own words and leave nothing.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { ensureBusyboxTestImage } from '@berth/contract/testing'
import { countProjectObjects, removeProject } from './helpers/demo.js'
import { berth, expectExit, FIXTURE_BIN, git, gitRepo, testdir } from './helpers/index.js'

const execFileAsync = promisify(execFile)
const RUN = randomBytes(2).toString('hex')
const NO_OBJECTS = { containers: 0, volumes: 0, networks: 0 }
const FLAVOURS = ['v2', 'v1'] as const

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('docker', args)
  return stdout.trim()
}

async function imageExists(name: string): Promise<boolean> {
  return docker('image', 'inspect', name).then(
    () => true,
    () => false,
  )
}

function jsonConfig(project: string, files: string[], ports: Record<string, { base: number }>, extra = {}) {
  const portVar = Object.keys(ports)[0] as string
  return `${JSON.stringify(
    {
      project,
      compose: { files, ...extra },
      slots: { pool: [1, 2], max: 10 },
      ports,
      secrets: { provider: 'none' },
      gate: { timeout: 30, checks: [{ name: 'web', http: `http://127.0.0.1:\${${portVar}}/index.html` }] },
    },
    null,
    2,
  )}\n`
}

describe('compose files berth has not seen before', () => {
  const { dir, cleanup } = testdir('berth-hostile-')
  const home = join(dir, 'home')
  const env = { PATH: `${FIXTURE_BIN}:${process.env.PATH}` }
  const project = `hostile${RUN}`
  const external = { volume: `hostile${RUN}-shared`, network: `hostile${RUN}-net` }
  const ids = ['a', 'b'].map((feature) => `${project}-impl-${feature}`)
  let image = ''

  const run = (args: string[], cwd: string, flavour: string) =>
    berth(args, { cwd, home, env: { ...env, BERTH_COMPOSE: flavour }, timeoutMs: 300_000 })

  before(async () => {
    image = await ensureBusyboxTestImage()
    await docker('volume', 'create', external.volume)
    await docker('network', 'create', external.network)
  })

  after(async () => {
    for (const id of ids) await removeProject(id)
    for (const id of ids) await docker('rmi', '-f', `${project}-web:dev-${id}`).catch(() => '')
    await docker('volume', 'rm', '-f', external.volume).catch(() => '')
    await docker('network', 'rm', external.network).catch(() => '')
    cleanup()
  })

  test('a compose file in a subfolder that builds a per-instance image and mounts ${PWD}/site runs twice side by side, each mounting its own checkout; done removes each instance’s image and keeps the external volume and network, on both flavours', {
    timeout: 600_000,
  }, async () => {
    const parent = join(dir, 'subfolder')
    const { repo } = await gitRepo(parent, project, {
      'deploy/compose.yaml': `services:
  web:
    build:
      context: ../web
    image: ${project}-web:dev
    ports: ["\${WEB_PORT:-18480}:80"]
    volumes:
      - ../site:/relative:ro
      - \${PWD}/site:/www:ro
      - shared:/shared
    networks: [default, ext]
volumes:
  shared:
    external: true
    name: ${external.volume}
networks:
  ext:
    external: true
    name: ${external.network}
`,
      'web/Dockerfile': `FROM ${image}\nCMD ["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www"]\n`,
      'site/index.html': 'from the checkout\n',
      'berth.config.json': jsonConfig(
        project,
        ['deploy/compose.yaml'],
        { WEB_PORT: { base: 18480 } },
        {
          render: { instanceImages: true },
        },
      ),
    })
    // A file only the main checkout has (berth is started there): ${PWD} must not reach it.
    writeFileSync(join(repo, 'site', 'only-main.html'), 'main checkout\n')
    for (const flavour of FLAVOURS) {
      for (const [index, feature] of ['a', 'b'].entries()) {
        const started = expectExit(
          await run(['impl', feature, '--json'], repo, flavour),
          0,
          `${flavour}: impl ${feature}`,
        )
        assert.equal(started.json.gate.passed, true)
        const port = started.json.ports.WEB_PORT
        const viaPwd = await fetch(`http://127.0.0.1:${port}/index.html`)
        assert.equal(await viaPwd.text(), 'from the checkout\n', `${flavour}: \${PWD}/site is the instance's checkout`)
        const mainOnly = await fetch(`http://127.0.0.1:${port}/only-main.html`)
        await mainOnly.text()
        assert.equal(mainOnly.status, 404, `${flavour}: \${PWD} is not the folder berth was started in`)
        assert.ok(await imageExists(`${project}-web:dev-${ids[index]}`), `${flavour}: ${ids[index]} has its own image`)
      }
      for (const [index, feature] of ['a', 'b'].entries()) {
        const done = expectExit(await run(['done', feature, '--json'], repo, flavour), 0, `${flavour}: done ${feature}`)
        const id = ids[index] as string
        assert.deepEqual(done.json.compose.imagesRemoved, [`${project}-web:dev-${id}`])
        assert.equal(
          await imageExists(`${project}-web:dev-${id}`),
          false,
          `${flavour}: done ${feature} removed its image`,
        )
        assert.deepEqual(await countProjectObjects(id), NO_OBJECTS, `${flavour}: done ${feature} left nothing`)
      }
      assert.equal(await docker('volume', 'ls', '-q', '--filter', `name=^${external.volume}$`), external.volume)
      assert.equal(
        await docker('network', 'ls', '--format', '{{.Name}}', '--filter', `name=^${external.network}$`),
        external.network,
      )
    }
    assert.ok(await imageExists(image), 'the base image the build started from stays')
  })

  test('a published port whose ${X:?message} variable nothing sets, a key compose does not accept, or an env_file git ignores makes impl exit 2 in the file’s own words and leaves no worktree, branch, slot or compose object, on both flavours', {
    timeout: 600_000,
  }, async () => {
    const parent = join(dir, 'refused')
    const name = `${project}r`
    const { repo } = await gitRepo(parent, name, {
      '.gitignore': '.env.local\n',
      'compose.yaml': `services:
  web:
    image: ${image}
    command: ["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/"]
    ports: ["\${WEB_PORT}:80", "\${ADMIN_HOST_PORT:?set ADMIN_HOST_PORT in .env}:81"]
`,
      'berth.config.json': jsonConfig(name, ['compose.yaml'], { WEB_PORT: { base: 18580 } }),
    })
    const refusedId = `${name}-impl-x`
    const expectNothingLeft = async (what: string) => {
      assert.equal(existsSync(join(parent, refusedId)), false, `${what}: no worktree`)
      assert.equal((await git(repo, 'branch', '--list', 'impl/x')).trim(), '', `${what}: no branch`)
      assert.deepEqual(await countProjectObjects(refusedId), NO_OBJECTS, `${what}: no compose object`)
      const list = expectExit(await run(['sandbox', 'list', '--json'], repo, 'v2'), 0, 'sandbox list')
      assert.deepEqual(list.json.instances, [], `${what}: no slot claimed`)
    }
    for (const flavour of FLAVOURS) {
      const refused = expectExit(
        await run(['impl', 'x'], repo, flavour),
        2,
        `${flavour}: impl with ADMIN_HOST_PORT unset`,
      )
      assert.match(refused.stderr, /set ADMIN_HOST_PORT in \.env/, 'the message the file gives')
      assert.match(refused.stderr, /ADMIN_HOST_PORT is in neither \.env nor the config's ports/, 'the render warning')
      await expectNothingLeft(`${flavour}: unset variable`)
    }

    // The variable set in berth's environment is what compose uses, as it would be without berth.
    const withVariable = await berth(['impl', 'x', '--json'], {
      cwd: repo,
      home,
      env: { ...env, ADMIN_HOST_PORT: '' },
      timeoutMs: 300_000,
    })
    expectExit(withVariable, 2, 'impl with ADMIN_HOST_PORT set but empty (:? refuses an empty value too)')
    await expectNothingLeft('empty variable')

    // A typo in a key: compose refuses the file; berth says so, exit 2, not "read the logs".
    writeFileSync(
      join(repo, 'compose.yaml'),
      `services:
  web:
    image: ${image}
    command: ["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/"]
    restartt: always
    ports: ["\${WEB_PORT}:80"]
`,
    )
    await git(repo, 'commit', '-q', '-am', 'typo')
    await git(repo, 'push', '-q')
    for (const flavour of FLAVOURS) {
      const refused = expectExit(await run(['impl', 'x'], repo, flavour), 2, `${flavour}: impl with a typo in a key`)
      assert.match(refused.stderr, /restartt/, 'names the key')
      assert.match(refused.stderr, /fix it in your compose files/)
      await expectNothingLeft(`${flavour}: typo`)
    }

    // A local env file the main checkout has but git ignores: not in the new worktree.
    await git(repo, 'rm', '-q', 'compose.yaml')
    writeFileSync(
      join(repo, 'compose.yaml'),
      `services:
  web:
    image: ${image}
    command: ["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/"]
    env_file: .env.local
    ports: ["\${WEB_PORT}:80"]
`,
    )
    writeFileSync(join(repo, '.env.local'), 'LOCAL_ONLY=1\n')
    await git(repo, 'add', 'compose.yaml')
    await git(repo, 'commit', '-q', '-m', 'env_file')
    await git(repo, 'push', '-q')
    for (const flavour of FLAVOURS) {
      const refused = expectExit(
        await run(['impl', 'x'], repo, flavour),
        2,
        `${flavour}: impl with the env_file missing`,
      )
      assert.match(refused.stderr, /\.env\.local/, 'names the file')
      assert.match(refused.stderr, /required: false/, 'says how to make it optional')
      assert.match(refused.stderr, /worktree\.copy/, 'says how to copy it into each worktree')
      await expectNothingLeft(`${flavour}: missing env_file`)
    }
  })
  test('services that address another by its container_name still reach it once rendering drops the name, each instance its own, on both flavours', {
    timeout: 600_000,
  }, async () => {
    const parent = join(dir, 'named')
    const name = `${project}n`
    const sh = (script: string) => JSON.stringify(['/bin/busybox', 'sh', '-c', script])
    const { repo } = await gitRepo(parent, name, {
      'compose.yaml': `services:
  db:
    image: ${image}
    container_name: ${name}-postgres
    command: ${sh('/bin/busybox mkdir -p /srv && echo "$$INSTANCE_ID" > /srv/id && exec /bin/busybox httpd -f -p 5432 -h /srv')}
  app:
    image: ${image}
    environment:
      DB_HOST: ${name}-postgres
    command: ${sh('/bin/busybox mkdir -p /www && until /bin/busybox wget -q -O /www/dbid "http://$$DB_HOST:5432/id"; do sleep 1; done; exec /bin/busybox httpd -f -p 80 -h /www')}
    ports: ["27380:80"]
`,
      'berth.config.json': jsonConfig(name, ['compose.yaml'], { APP_PORT: { base: 27380 } }).replace(
        '/index.html',
        '/dbid',
      ),
    })
    const named = ['a', 'b'].map((feature) => `${name}-impl-${feature}`)
    try {
      for (const flavour of FLAVOURS) {
        for (const [index, feature] of ['a', 'b'].entries()) {
          const started = expectExit(
            await run(['impl', feature, '--json'], repo, flavour),
            0,
            `${flavour}: impl ${feature}`,
          )
          const answer = await fetch(`http://127.0.0.1:${started.json.ports.APP_PORT}/dbid`)
          assert.equal(
            (await answer.text()).trim(),
            named[index],
            `${flavour}: app ${feature} reached its own db by name`,
          )
        }
        for (const [index, feature] of ['a', 'b'].entries()) {
          expectExit(await run(['done', feature], repo, flavour), 0, `${flavour}: done ${feature}`)
          assert.deepEqual(await countProjectObjects(named[index] as string), NO_OBJECTS)
        }
      }
    } finally {
      for (const id of named) await removeProject(id)
    }
  })
})
