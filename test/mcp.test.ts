/**
 * `berth mcp` driven over stdio by the Model Context Protocol SDK's own client, against a real
 * repository, real git and the real engine: the same state as the CLI leaves.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { countProjectObjects } from './helpers/demo.js'
import { BERTH_BIN, berth, berthEnv, testdir } from './helpers/index.js'
import { itemsPortBlock, itemsStackRepo } from './helpers/items-stack.js'

interface ToolAnswer {
  isError?: boolean
  // biome-ignore lint/suspicious/noExplicitAny: the JSON documents of berth --json, read by assertions
  structuredContent?: Record<string, any>
}

describe('berth mcp: berth as a Model Context Protocol server over stdio', () => {
  const { dir, cleanup } = testdir('berth-mcp-')
  const home = join(dir, 'home')
  let repo = ''
  let client: Client
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: 180_000 })) as ToolAnswer

  before(async () => {
    repo = await itemsStackRepo(dir, 'shop', itemsPortBlock())
    mkdirSync(home)
    client = new Client({ name: 'berth-test', version: '1.0.0' })
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [BERTH_BIN, 'mcp'],
        cwd: repo,
        env: berthEnv(home) as Record<string, string>,
        stderr: 'ignore',
      }),
    )
  })

  after(async () => {
    await client?.close()
    for (const name of ['m', 'c']) await berth(['done', name, '--force'], { cwd: repo, home }).catch(() => undefined)
    cleanup()
  })

  test('tools/list offers the tools with their input schemas, and marks done as destructive', async () => {
    const { tools } = await client.listTools()
    const byName = new Map(tools.map((tool) => [tool.name, tool]))
    for (const name of ['impl', 'list', 'status', 'url', 'logs', 'up', 'gate', 'test_e2e', 'run', 'evidence', 'done']) {
      assert.ok(byName.has(name), `tool ${name} is listed`)
    }
    assert.deepEqual(byName.get('impl')?.inputSchema.required, ['name'])
    assert.ok(byName.get('impl')?.inputSchema.properties?.slot)
    assert.deepEqual(byName.get('status')?.inputSchema.required, ['instance'])
    assert.deepEqual(byName.get('run')?.inputSchema.required, ['instance', 'command'])
    assert.equal(byName.get('run')?.inputSchema.properties?.command?.type, 'array')
    assert.equal(byName.get('done')?.annotations?.destructiveHint, true)
    assert.ok(byName.get('done')?.inputSchema.properties?.force)
    assert.equal(byName.get('status')?.annotations?.readOnlyHint, true)
  })

  test('impl, status and done through MCP leave the state the CLI leaves', async () => {
    const made = await call('impl', { name: 'm' })
    assert.equal(made.isError, false, JSON.stringify(made.structuredContent))
    assert.equal(made.structuredContent?.exitCode, 0)
    assert.equal(made.structuredContent?.gate.passed, true)
    const viaCli = await berth(['impl', 'c', '--json'], { cwd: repo, home, timeoutMs: 180_000 })
    assert.equal(viaCli.code, 0, viaCli.stderr)

    // The same kind of record, worktree and .env.sandbox, whichever way the instance was made.
    const listed = await berth(['sandbox', 'list', '--json'], { cwd: repo, home })
    const [m, c] = ['m', 'c'].map((name) =>
      listed.json.instances.find((i: { id: string }) => i.id === `shop-impl-${name}`),
    )
    assert.ok(m && c, 'both instances are registered')
    assert.deepEqual([m.kind, m.state, m.running], [c.kind, c.state, c.running])
    assert.equal(m.branch, 'impl/m')
    const envKeys = (path: string) =>
      readFileSync(join(path, '.env.sandbox'), 'utf8')
        .split('\n')
        .filter((line) => line && !line.startsWith('#'))
        .map((line) => line.split('=')[0])
    assert.deepEqual(envKeys(m.path), envKeys(c.path))

    const status = await call('status', { instance: 'm' })
    assert.equal(status.isError, false)
    const cliStatus = await berth(['sandbox', 'status', '--json'], { cwd: m.path, home })
    assert.deepEqual(
      status.structuredContent?.containers.map((x: { service: string; state: string }) => [x.service, x.state]),
      cliStatus.json.containers.map((x: { service: string; state: string }) => [x.service, x.state]),
    )
    assert.equal(status.structuredContent?.containers[0].state, 'running')

    // run goes to `berth run` in the instance: this config has no workspace, so the CLI's exit 2.
    const ran = await call('run', { instance: 'm', command: ['true'] })
    assert.equal(ran.isError, true)
    assert.equal(ran.structuredContent?.exitCode, 2)
    assert.equal(ran.structuredContent?.error.code, 'E_NO_WORKSPACE')

    const done = await call('done', { name: 'm' })
    assert.equal(done.isError, false, JSON.stringify(done.structuredContent))
    assert.equal(existsSync(m.path), false, 'the worktree is gone')
    assert.deepEqual(await countProjectObjects('shop-impl-m'), { containers: 0, volumes: 0, networks: 0 })
    const after = await berth(['sandbox', 'list', '--json'], { cwd: repo, home })
    assert.deepEqual(
      after.json.instances.map((i: { id: string }) => i.id),
      ['shop-impl-c'],
    )
  })

  test('a refused call answers the CLI error document with isError, and changes nothing', async () => {
    const unknown = await call('status', { instance: 'nope' })
    assert.equal(unknown.isError, true)
    const bad = await call('impl', { name: '../x' })
    assert.equal(bad.isError, true)
    assert.equal(bad.structuredContent?.exitCode, 2)
    assert.equal(bad.structuredContent?.ok, false)
    assert.equal(existsSync(join(dir, 'x')), false)
  })
})
