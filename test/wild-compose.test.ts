/**
 * A compose file in the shape popular projects write it, nobody edited for berth: `version:`, an
 * `x-` block merged into services with YAML anchors (`<<: *common`), a host port read from a
 * variable the project's `.env` sets, a long-syntax port, a host-port range, a service built from
 * a relative context with a fixed `image:` tag, a relative bind mount, `depends_on` with
 * `condition: service_healthy`, a network alias, and a service under a profile. `berth setup`,
 * commit, two instances side by side, then `done` of each leaves nothing.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ensureBusyboxTestImage } from '@berth/contract/testing'
import { countProjectObjects, projectObjects, readEnvFile, removeProject } from './helpers/demo.js'
import { berth, expectExit, FIXTURE_BIN, git, gitRepo, testdir } from './helpers/index.js'

const RUN = randomBytes(2).toString('hex')
const NO_OBJECTS = { containers: 0, volumes: 0, networks: 0 }

function wildFiles(image: string, tag: string): Record<string, string> {
  const httpd = (port: number) => `["/bin/busybox", "httpd", "-f", "-p", "${port}", "-h", "/www"]`
  return {
    '.env': 'WEB_PORT=18088\nAPP_ENV=dev\n',
    'docker-compose.yml': `version: "3.8"

x-common: &common
  restart: unless-stopped
  env_file: .env
  environment:
    APP_ENV: \${APP_ENV:-dev}

services:
  db:
    <<: *common
    image: ${image}
    command: ${httpd(5432)}
    ports:
      - "5432:5432"
    volumes:
      - dbdata:/data
    healthcheck:
      test: ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:5432/"]
      interval: 1s
      retries: 30

  cache:
    image: ${image}
    container_name: wild-redis
    command: ${httpd(6379)}
    ports:
      - target: 6379
        published: "6379"
        protocol: tcp
    networks:
      backend:
        aliases: [redis]

  web:
    <<: *common
    build:
      context: ./web
    image: ${tag}
    ports:
      - "\${WEB_PORT}:80"
      - "19000-19001:9000-9001"
    volumes:
      - ./src:/www/src:ro
    depends_on:
      db:
        condition: service_healthy
      cache:
        condition: service_started
    networks: [default, backend]

  debug:
    image: ${image}
    profiles: ["debug"]
    command: ${httpd(1)}

volumes:
  dbdata:

networks:
  backend:
`,
    'web/Dockerfile': `FROM ${image}\nCMD ["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www"]\n`,
    'src/page.txt': 'served from the checkout\n',
  }
}

describe('a compose file written the way popular projects write it', () => {
  const { dir, cleanup } = testdir('berth-wild-')
  const home = join(dir, 'home')
  const env = { PATH: `${FIXTURE_BIN}:${process.env.PATH}` }
  const project = `wild${RUN}`
  const tag = `berth-wild-web-${RUN}:dev`
  let repo = ''

  const run = (args: string[], cwd = repo) => berth(args, { cwd, home, env, timeoutMs: 300_000 })

  before(async () => {
    const image = await ensureBusyboxTestImage()
    ;({ repo } = await gitRepo(dir, project, wildFiles(image, tag)))
  })

  after(async () => {
    for (const feature of ['a', 'b']) await removeProject(`${project}-impl-${feature}`)
    await new Promise<void>((resolve) => execFile('docker', ['rmi', '-f', tag], () => resolve()))
    cleanup()
  })

  test('setup, then two instances side by side: every gate passes, ports distinct on 127.0.0.1, the profile service stays off, and done of each leaves nothing', {
    timeout: 600_000,
  }, async () => {
    const setup = expectExit(await run(['setup']), 0, 'setup')
    assert.match(
      setup.stdout,
      /port WEB_PORT = 18088 \+ \d+×slot: .*\(WEB_PORT=18088 in \.env\)/,
      'the base comes from .env',
    )
    assert.match(
      setup.stdout,
      /gate web: .*port 80 looks like HTTP/,
      "web is checked on its HTTP port, not the range's",
    )
    await git(repo, 'add', '-A')
    await git(repo, 'commit', '-q', '-m', 'berth setup')
    await git(repo, 'push', '-q')
    const composeBefore = readFileSync(join(repo, 'docker-compose.yml'), 'utf8')

    const a = expectExit(await run(['impl', 'a', '--json']), 0, 'impl a')
    assert.equal(a.json.gate.passed, true)
    assert.match(a.stderr, new RegExp(`image ${tag} is built by the compose files and shared by every instance`))
    const b = expectExit(await run(['impl', 'b', '--json']), 0, 'impl b')
    assert.equal(b.json.gate.passed, true)

    const bound: string[] = []
    for (const feature of ['a', 'b']) {
      const id = `${project}-impl-${feature}`
      const { containers } = await projectObjects(id)
      const services = containers.map((c) => c.Labels['com.docker.compose.service']).sort()
      assert.deepEqual(services, ['cache', 'db', 'web'], `${id}: the debug profile stays off`)
      for (const container of containers) {
        for (const port of container.Ports.filter((p) => p.PublicPort)) {
          assert.equal(port.IP, '127.0.0.1', `${id}: ${port.PublicPort} is bound to 127.0.0.1`)
          bound.push(String(port.PublicPort))
        }
      }
      const tree = join(dir, `${project}-impl-${feature}`)
      const webPort = readEnvFile(join(tree, '.env.sandbox')).WEB_PORT
      const page = await fetch(`http://127.0.0.1:${webPort}/src/page.txt`)
      assert.equal(
        await page.text(),
        'served from the checkout\n',
        `${id}: the relative bind mount is its own checkout`,
      )
    }
    assert.equal(new Set(bound).size, bound.length, `every published port is distinct: ${bound.join(', ')}`)
    assert.equal(bound.length, 2 * 5, 'db, cache, web and its two-port range, per instance')

    for (const feature of ['a', 'b']) expectExit(await run(['done', feature]), 0, `done ${feature}`)
    for (const feature of ['a', 'b']) {
      assert.deepEqual(await countProjectObjects(`${project}-impl-${feature}`), NO_OBJECTS)
    }
    assert.equal(readFileSync(join(repo, 'docker-compose.yml'), 'utf8'), composeBefore, 'the compose file is untouched')
  })
})
