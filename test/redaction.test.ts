/**
 * Secrets out of every output (issue 15): a service that logs its secrets — raw, inside JSON lines,
 * percent-encoded in a URL, and in an HTTP error body — through every path berth shows service or
 * command output: `sandbox logs` (plain, `--json`, `--follow`), a failed gate's log tail and
 * check errors, `gate --json`, evidence bundles (`berth evidence` and the automatic one of a failed
 * `sandbox up`), `test e2e`, and compose's own output. The secrets come from the stand-in `op`;
 * the commands that only show output must load them (in memory) to redact them, and must still
 * redact them when `op` is signed out (from what the containers were started with).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { buildDemoImages, engine, removeProject, serviceContainer, walkFiles } from './helpers/demo.js'
import { type BerthResult, FIXTURE_BIN } from './helpers/index.js'
import { expectExit, ourProjects, type RelRepo, relRepo, spawnBerth, until } from './reliability-fixtures.js'

const execFileAsync = promisify(execFile)

const TALKER = `import { createServer } from 'node:http'
const secret = process.env.TALK_SECRET ?? ''
const token = process.env.TALK_TOKEN ?? ''
console.log('raw secret: ' + secret)
console.log('token=' + token)
console.log(JSON.stringify({ level: 'info', msg: 'connecting', password: secret, token }))
console.error(JSON.stringify({ level: 'error', dsn: 'postgres://app:' + encodeURIComponent(secret) + '@db/app' }))
createServer((req, res) => {
  if (req.url === '/health') return res.end('ok')
  // a careless error handler: the 500's body quotes the secret
  res.writeHead(500, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ error: 'db auth failed', password: secret }))
}).listen(8000)
// Every tick again, so that any log tail, however short, holds every form of the secrets.
setInterval(() => {
  console.log('raw secret: ' + secret)
  console.log(JSON.stringify({ tick: Date.now(), token, password: secret }))
}, 500)
`

const E2E = `console.log('e2e sees ' + process.env.TALK_SECRET)
console.log(JSON.stringify({ test: 'auth', password: process.env.TALK_SECRET, token: process.env.TALK_TOKEN }))
process.exit(1)
`

const COMPOSE = `services:
  talker:
    image: berth-demo-base:local
    command: ["node", "/app/talker.mjs"]
    environment:
      TALK_SECRET: \${TALK_SECRET:-}
      TALK_TOKEN: \${TALK_TOKEN:-}
    ports:
      - "127.0.0.1:\${TALK_PORT:-8000}:8000"
    volumes:
      - ./talk:/app:ro
    stop_grace_period: 1s
  e2e:
    image: berth-demo-base:local
    profiles: ["test"]
    command: ["node", "/app/e2e.mjs"]
    environment:
      TALK_SECRET: \${TALK_SECRET:-}
      TALK_TOKEN: \${TALK_TOKEN:-}
    volumes:
      - ./talk:/app:ro
`

/** Every form in which a secret must never appear: raw, each line, JSON-escaped, percent-encoded. */
function forbiddenForms(secret: string): string[] {
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])
  for (const line of secret.split('\n')) if (line.length >= 4) forms.add(line)
  return [...forms]
}

function assertNoSecret(where: string, text: string, secrets: string[]): void {
  for (const secret of secrets) {
    for (const form of forbiddenForms(secret)) {
      assert.ok(!text.includes(form), `${where} contains a secret (${JSON.stringify(form)}):\n${text}`)
    }
  }
}

before(
  async () => {
    await engine('/_ping') // no engine: every test fails here, none is skipped
    await buildDemoImages()
  },
  { timeout: 300_000 },
)

after(
  async () => {
    await Promise.all([...ourProjects].map((project) => removeProject(project).catch(() => undefined)))
  },
  { timeout: 120_000 },
)

describe('secrets are redacted on every output path', () => {
  const tag = randomBytes(4).toString('hex')
  // a quote, a backslash and a newline: the JSON-escaped form differs from the raw one
  const secret = `Sup3r"Se\\cret-${tag}\nsecond-line-${tag}`
  const token = `tok-${randomBytes(8).toString('hex')}`
  const secrets = [secret, token]
  let rel: RelRepo
  let env: NodeJS.ProcessEnv
  const outputs: { what: string; result: BerthResult }[] = []
  const run = async (args: string[], options: { env?: NodeJS.ProcessEnv } = {}) => {
    const result = await rel.run(args, { cwd: rel.tree('a'), env: { ...env, ...options.env } })
    outputs.push({ what: `berth ${args.join(' ')}`, result })
    return result
  }

  before(
    async () => {
      rel = await relRepo('redact', {
        files: { 'compose.talk.yaml': COMPOSE, 'talk/talker.mjs': TALKER, 'talk/e2e.mjs': E2E },
        config: (project, block) => ({
          project,
          compose: { files: ['compose.talk.yaml'] },
          ports: { TALK_PORT: { base: block } },
          slots: { pool: [1, 2, 3], max: 20 },
          secrets: {
            provider: '1password',
            item: 'talk',
            fields: { secret: 'TALK_SECRET', token: 'TALK_TOKEN' },
          },
          gate: {
            timeout: 30,
            checks: [
              { name: 'health', http: 'http://127.0.0.1:${TALK_PORT}/health', service: 'talker' },
              { name: 'leaky', http: 'http://127.0.0.1:${TALK_PORT}/leak', service: 'talker', after: ['health'] },
            ],
          },
        }),
      })
      const itemsFile = join(rel.dir, 'op-items.json')
      writeFileSync(itemsFile, JSON.stringify({ talk: { secret, token } }))
      env = { PATH: `${FIXTURE_BIN}:${process.env.PATH}`, OP_STANDIN_ITEMS: itemsFile }
      // --no-wait: the stack runs, the (deliberately failing) gate is left for the tests below.
      const impl = await rel.run(['impl', 'a', '--no-wait'], { env })
      outputs.push({ what: 'berth impl a --no-wait', result: impl })
      expectExit(impl, 0, 'impl a --no-wait')
      const container = await serviceContainer(rel.id('a'), 'talker')
      await until(
        'the talker to log its secret as JSON',
        async () => {
          const { stdout, stderr } = await execFileAsync('docker', ['logs', container.Id])
          return `${stdout}${stderr}`.includes(JSON.stringify(secret).slice(1, -1))
        },
        30_000,
        200,
      )
    },
    { timeout: 240_000 },
  )

  after(() => (process.env.KEEP ? console.log(rel.dir) : rel?.cleanup()), { timeout: 120_000 })

  test('the service really logs its secrets raw, JSON-escaped and percent-encoded (the engine holds them)', async () => {
    const container = await serviceContainer(rel.id('a'), 'talker')
    const { stdout, stderr } = await execFileAsync('docker', ['logs', container.Id])
    const raw = `${stdout}${stderr}`
    assert.ok(raw.includes(`raw secret: ${secret.split('\n')[0]}`))
    assert.ok(raw.includes(JSON.stringify(secret).slice(1, -1)))
    assert.ok(raw.includes(encodeURIComponent(secret)))
    assert.ok(raw.includes(token))
  })

  test('sandbox logs shows the lines with every secret form replaced by ***', { timeout: 60_000 }, async () => {
    const result = expectExit(await run(['sandbox', 'logs', '--tail', 'all']), 0, 'sandbox logs')
    assertNoSecret('sandbox logs', `${result.stdout}${result.stderr}`, secrets)
    assert.match(result.stdout, /raw secret: \*\*\*/)
    assert.match(result.stdout, /"password":"\*\*\*"/)
    assert.match(result.stdout, /postgres:\/\/app:\*\*\*@db\/app/)
  })

  test('sandbox logs --json redacts inside the JSON document', { timeout: 60_000 }, async () => {
    const result = expectExit(await run(['sandbox', 'logs', '--json']), 0, 'sandbox logs --json')
    assertNoSecret('sandbox logs --json', `${result.stdout}${result.stderr}`, secrets)
    assert.match(result.json.logs, /"password":"\*\*\*"/)
  })

  test('sandbox logs --follow redacts each streamed line and ends on SIGINT', { timeout: 60_000 }, async () => {
    const follow = spawnBerth(['sandbox', 'logs', '--follow', '--tail', '5'], {
      cwd: rel.tree('a'),
      home: rel.home,
      env,
      stdout: true,
    })
    await until('streamed tick lines', () => (follow.stdout().match(/"tick"/g) ?? []).length >= 3, 30_000)
    follow.child.kill('SIGINT')
    await follow.exited
    assertNoSecret('sandbox logs --follow', `${follow.stdout()}${follow.stderr()}`, secrets)
    assert.match(follow.stdout(), /"token":"\*\*\*"/)
  })

  test('a failed gate redacts its log tail and the check error quoting the service answer', {
    timeout: 60_000,
  }, async () => {
    const human = expectExit(await run(['gate', '--timeout', '3']), 1, 'gate')
    assertNoSecret('gate', `${human.stdout}${human.stderr}`, secrets)
    assert.match(human.stderr, /last 30 log lines of talker/)
    assert.match(human.stderr, /raw secret: \*\*\*/)
    const json = expectExit(await run(['gate', '--timeout', '3', '--json']), 1, 'gate --json')
    assertNoSecret('gate --json', `${json.stdout}${json.stderr}`, secrets)
    assert.match(json.json.error.message, /"password":"\*\*\*"/)
  })

  test('evidence bundles (berth evidence, and those a failed gate and test e2e leave) hold no secret', {
    timeout: 120_000,
  }, async () => {
    const evidence = expectExit(await run(['evidence', '--json']), 0, 'evidence')
    assert.ok(evidence.json.evidence.dir)
    const parent = join(rel.tree('a'), '.sandbox', 'evidence')
    const bundles = readdirSync(parent).map((name) => join(parent, name))
    assert.ok(bundles.length >= 3, `berth evidence and two failed gates left bundles: ${bundles.join(', ')}`)
    let withRedactedLog = 0
    for (const dir of bundles) {
      const files = walkFiles(dir)
      assert.ok(
        files.some((file) => file.endsWith('talker.log')),
        `${dir} has the talker's log`,
      )
      for (const file of files) assertNoSecret(file, readFileSync(file, 'utf8'), secrets)
      const log = readFileSync(files.find((file) => file.endsWith('talker.log'))!, 'utf8')
      if (/"password":"\*\*\*"/.test(log)) withRedactedLog++
    }
    // Every bundle is free of secrets; the logs in them did hold the secrets, redacted (a log tail
    // the engine was too busy to give is not the point here).
    assert.ok(withRedactedLog >= 2, `${withRedactedLog} bundles hold the talker's redacted log`)
  })

  test('test e2e redacts the test service output, human and --json', { timeout: 120_000 }, async () => {
    const human = expectExit(await run(['test', 'e2e']), 1, 'test e2e')
    assertNoSecret('test e2e', `${human.stdout}${human.stderr}`, secrets)
    assert.match(human.stdout, /e2e sees \*\*\*/)
    const json = expectExit(await run(['test', 'e2e', '--json']), 1, 'test e2e --json')
    assertNoSecret('test e2e --json', `${json.stdout}${json.stderr}`, secrets)
  })

  test('with op signed out, sandbox logs still redacts what the containers were started with', {
    timeout: 60_000,
  }, async () => {
    const result = expectExit(
      await run(['sandbox', 'logs', '--tail', 'all'], { env: { OP_STANDIN_SIGNED_OUT: '1' } }),
      0,
      'sandbox logs (op signed out)',
    )
    assertNoSecret('sandbox logs (op signed out)', `${result.stdout}${result.stderr}`, secrets)
    assert.match(result.stdout, /raw secret: \*\*\*/)
  })

  test('a sandbox up whose gate fails redacts its failure report', { timeout: 120_000 }, async () => {
    const up = expectExit(await run(['sandbox', 'up', '--timeout', '3']), 1, 'sandbox up')
    assertNoSecret('sandbox up', `${up.stdout}${up.stderr}`, secrets)
    assert.match(up.stderr, /"password":"\*\*\*"/)
  })

  test('no output of any command above contained a secret', () => {
    assert.ok(outputs.length >= 9)
    for (const { what, result } of outputs) assertNoSecret(what, `${result.stdout}${result.stderr}`, secrets)
  })
})
