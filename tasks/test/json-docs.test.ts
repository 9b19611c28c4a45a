import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { documentHelpLines, documentKeys, jsonReference } from '../src/outputs.js'
import { bindPipeline, DEFAULT_PIPELINES, expandPipeline } from '../src/pipelines.js'
import { builtinPlugins } from '../src/plugins.js'

const ROOT = join(import.meta.dirname, '..', '..')

describe('the --json documents, documented from the schemas', () => {
  test('docs/json.md is what the steps declare today (regenerate with pnpm docs:json)', async () => {
    const generated = jsonReference({ plugins: await builtinPlugins(), pipelines: DEFAULT_PIPELINES })
    // Formatted as the repository formats markdown (the committed file went through biome).
    const dir = mkdtempSync(join(tmpdir(), 'berth-json-docs-'))
    try {
      const file = join(dir, 'json.md')
      writeFileSync(file, generated)
      execFileSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', file], {
        cwd: ROOT,
        stdio: 'ignore',
      })
      assert.equal(
        readFileSync(join(ROOT, 'docs', 'json.md'), 'utf8'),
        readFileSync(file, 'utf8'),
        'docs/json.md is out of date: run pnpm docs:json',
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test("a command's help lists its document's keys with the steps that write them", async () => {
    const plugins = await builtinPlugins()
    const steps = bindPipeline('sandbox.slots', expandPipeline('sandbox.slots', DEFAULT_PIPELINES), plugins)
    const lines = documentHelpLines(documentKeys(steps))
    assert.match(lines.join('\n'), /--json document/)
    assert.ok(
      lines.some((line) => /^ {2}slots +every slot 0\.\.max: .*\[registry\.slots\]$/.test(line)),
      lines.join('\n'),
    )
  })
})
