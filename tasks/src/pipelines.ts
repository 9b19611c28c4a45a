import { ConfigError, type Plugin, pluginKey } from '@berth/contract'
import type { PipelineEdit } from './config/schema.js'
import type { BoundStep } from './runner.js'

/**
 * The built-in pipelines. Each CLI command runs one; a config's `pipelines` section can replace
 * one wholesale or edit it (insert/remove/replace/append) without touching the runner.
 */
export const DEFAULT_PIPELINES: Record<string, string[]> = {
  // Shared by every command that starts containers, so secrets and the gate run on every path.
  // The slot's route is straight in every pipeline: registry.claim (or registry.resolve) settles
  // the instance and its claimed ports, ports.check proves them free and sets them for the task,
  // env.write (or env.read) carries them in .env.sandbox. compose.afterUp: migrations and seeds,
  // after the start and before the gate that needs them.
  // profiles.apply: the instance's slot profile (scales, compose profiles, its values) for the
  // render, compose and the gate.
  'stack.up': [
    'profiles.apply',
    'compose.lint',
    'compose.render',
    'secrets.load',
    'compose.up',
    'compose.afterUp',
    'hostServices.check',
    'gate.wait',
  ],
  // `registry.lock`: one operation per instance, taken before the first change (see registry).
  // `registry.capacity`: a place under the machine's cap on running stacks, taken before anything
  // is created or started (held as "starting" until the command ends).
  spec: ['worktree.plan', 'registry.lock', 'registry.claim', 'worktree.create'],
  impl: [
    'worktree.plan',
    'profiles.select',
    'registry.lock',
    'registry.capacity',
    'registry.claim',
    'worktree.create',
    'ports.check',
    'env.write',
    '@stack.up',
  ],
  done: [
    'registry.resolve',
    'registry.lock',
    'env.read',
    'worktree.check',
    'compose.destroy',
    'worktree.remove',
    'registry.release',
  ],
  worktrees: ['worktree.list'],
  'sandbox.init': ['instance.detect', 'registry.lock', 'registry.claim', 'ports.check', 'env.write'],
  'sandbox.up': [
    'registry.resolve',
    'registry.lock',
    'registry.capacity',
    'profiles.select',
    'env.read',
    'ports.check',
    '@stack.up',
  ],
  'sandbox.down': ['registry.resolve', 'registry.lock', 'env.read', 'compose.beforeDown', 'compose.down'],
  'sandbox.status': ['registry.resolve', 'env.read', 'profiles.apply', 'compose.status'],
  'sandbox.list': ['registry.list', 'instance.summary', 'compose.list'],
  'sandbox.logs': ['registry.resolve', 'env.read', 'compose.logs'],
  'sandbox.destroy': [
    'registry.resolve',
    'registry.lock',
    'env.read',
    'worktree.check',
    'compose.destroy',
    'env.remove',
    'worktree.remove',
    'registry.release',
  ],
  // secrets.load: postgres/redis checks log in with the instance's secrets.
  gate: ['registry.resolve', 'env.read', 'profiles.apply', 'secrets.load', 'gate.wait'],
  'local-prod.init': ['instance.detect', 'registry.lock', 'registry.claim', 'ports.check', 'env.write'],
  'local-prod.up': ['registry.resolve', 'registry.lock', 'registry.capacity', 'env.read', 'ports.check', '@stack.up'],
  'local-prod.down': ['registry.resolve', 'registry.lock', 'env.read', 'compose.beforeDown', 'compose.down'],
  'local-prod.status': ['registry.resolve', 'env.read', 'compose.status'],
  // local-prod is the user's own clone: its stack and claim go, the folder always stays.
  'local-prod.destroy': [
    'registry.resolve',
    'registry.lock',
    'env.read',
    'compose.destroy',
    'env.remove',
    'registry.release',
  ],
  'sandbox.slots': ['registry.slots'],
  'sandbox.release': ['registry.releaseSlot'],
  url: ['env.url'],
  'config.show': ['config.show'],
  'config.schema': ['config.schema'],
  doctor: ['doctor.run'],
  'test.e2e': ['registry.resolve', 'registry.lock', 'env.read', 'profiles.apply', 'secrets.load', 'compose.test'],
  // secrets.load: the redactor learns the values, so the command's output never shows them.
  exec: ['registry.resolve', 'registry.lock', 'env.read', 'secrets.load', 'compose.exec'],
  // No registry.lock: runs in one workspace may go side by side (an agent's tests, a watcher),
  // and a long one must not block the instance's other commands. secrets.load: the redactor and
  // the secrets the workspace is given (workspace.secrets).
  run: ['registry.resolve', 'env.read', 'secrets.load', 'compose.run'],
  shell: ['registry.resolve', 'env.read', 'secrets.load', 'compose.shell'],
  'compose.config': ['registry.resolve', 'env.read', 'profiles.apply', 'compose.render'],
  evidence: ['registry.resolve', 'env.read', 'evidence.collect'],
  'shared.init': ['shared.init'],
  'shared.status': ['shared.status'],
  setup: ['setup.apply'],
  completion: ['completion.script'],
  mcp: ['mcp.serve'],
}

export function applyPipelineEdit(
  name: string,
  base: string[],
  edit: string[] | PipelineEdit,
  problems: string[],
): string[] {
  if (Array.isArray(edit)) return [...edit]
  let steps = [...base]
  const where = `pipelines.${name}`
  for (const [index, step] of (edit.remove ?? []).entries()) {
    if (!steps.includes(step)) problems.push(`${where}.remove[${index}]: "${step}" is not in the ${name} pipeline`)
    steps = steps.filter((s) => s !== step)
  }
  for (const [from, to] of Object.entries(edit.replace ?? {})) {
    if (!steps.includes(from)) problems.push(`${where}.replace.${from}: "${from}" is not in the ${name} pipeline`)
    steps = steps.map((s) => (s === from ? to : s))
  }
  for (const [index, insert] of (edit.insert ?? []).entries()) {
    const anchor = insert.before ?? insert.after!
    const at = steps.indexOf(anchor)
    if (at < 0) {
      problems.push(
        `${where}.insert[${index}].${insert.before ? 'before' : 'after'}: "${anchor}" is not in the ${name} pipeline`,
      )
      continue
    }
    steps.splice(insert.before ? at : at + 1, 0, insert.step)
  }
  steps.push(...(edit.append ?? []))
  return steps
}

/** Every pipeline after the config's edits; problems are collected, not thrown, for one report. */
export function resolvePipelines(
  edits: Record<string, string[] | PipelineEdit>,
  problems: string[],
): Record<string, string[]> {
  const pipelines: Record<string, string[]> = { ...DEFAULT_PIPELINES }
  for (const [name, edit] of Object.entries(edits)) {
    const base = DEFAULT_PIPELINES[name]
    if (!base && !Array.isArray(edit)) {
      problems.push(`pipelines.${name}: unknown pipeline (known: ${Object.keys(DEFAULT_PIPELINES).join(', ')})`)
      continue
    }
    pipelines[name] = applyPipelineEdit(name, base ?? [], edit, problems)
  }
  return pipelines
}

/**
 * Checks that every step a configured pipeline names exists in a loaded plugin, or in the
 * manifest of a built-in the command did not need to load (`unloaded`: key -> its step names).
 */
export function checkStepRefs(
  pipelines: Record<string, string[]>,
  edited: string[],
  plugins: Plugin[],
  problems: string[],
  unloaded: Record<string, { steps: string[] }> = {},
): void {
  const byKey = new Map<string, { steps: Record<string, unknown> }>(plugins.map((p) => [pluginKey(p), p]))
  for (const [key, manifest] of Object.entries(unloaded)) {
    if (!byKey.has(key)) byKey.set(key, { steps: Object.fromEntries(manifest.steps.map((step) => [step, true])) })
  }
  for (const name of edited) {
    for (const [index, ref] of (pipelines[name] ?? []).entries()) {
      if (ref.startsWith('@')) {
        if (!pipelines[ref.slice(1)])
          problems.push(`pipelines.${name}[${index}]: no pipeline "${ref.slice(1)}" to include`)
        continue
      }
      const [key, step] = ref.split('.') as [string, string]
      const plugin = byKey.get(key)
      if (!plugin) problems.push(`pipelines.${name}[${index}]: no plugin "${key}" is loaded (step "${ref}")`)
      else if (!plugin.steps[step]) {
        problems.push(
          `pipelines.${name}[${index}]: plugin "${key}" has no step "${step}" (has: ${Object.keys(plugin.steps).join(', ')})`,
        )
      }
    }
  }
}

/**
 * Expands `@name` entries into that pipeline's steps (so `impl` and `sandbox up` share one
 * `stack.up`), leaving out the includes and steps in `drop` (e.g. `--no-up` drops `@stack.up`).
 */
export function expandPipeline(
  name: string,
  pipelines: Record<string, string[]>,
  drop: Set<string> = new Set(),
  seen: string[] = [],
): string[] {
  if (seen.includes(name))
    throw new ConfigError(`pipeline ${name} includes itself`, [
      `pipelines.${name}: include cycle ${[...seen, name].join(' -> ')}`,
    ])
  const refs = pipelines[name]
  if (!refs) throw new ConfigError(`no pipeline named ${name}`, [`pipelines.${name}: unknown pipeline`])
  return refs.flatMap((ref) => {
    if (drop.has(ref)) return []
    return ref.startsWith('@') ? expandPipeline(ref.slice(1), pipelines, drop, [...seen, name]) : [ref]
  })
}

/** Binds a pipeline's step names to the loaded plugins' steps. */
export function bindPipeline(name: string, refs: string[], plugins: Plugin[]): BoundStep[] {
  const byKey = new Map(plugins.map((p) => [pluginKey(p), p]))
  return refs.map((ref) => {
    const [key, stepName] = ref.split('.') as [string, string]
    const plugin = byKey.get(key)
    const step = plugin?.steps[stepName]
    if (!plugin || !step) {
      throw new ConfigError(`pipeline ${name} names "${ref}", which no loaded plugin provides`, [
        `pipelines.${name}: unknown step "${ref}"`,
      ])
    }
    return { id: ref, plugin, step }
  })
}
