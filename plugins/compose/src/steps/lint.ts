import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { defineStep, type TaskContext, UsageError } from '@berth/contract'
import { lintComposeFiles } from '../lint/files.js'
import { referencedVariables, type VariableValues } from '../lint/interpolate.js'
import { IDENTITY_VARIABLES, type LintOptions, type LintReport } from '../lint/report.js'
import { readDotEnvFile } from '../model/dotenv.js'
import { lintOutput } from '../outputs.js'
import { composeFilesFor, composeSettings } from './context.js'

/**
 * `compose.lint`: checks the compose files, as compose will resolve them for this instance, for
 * what breaks parallel instances or exposes the host, before anything starts. Errors stop the task
 * (exit 2) naming file:line and service; warnings are logged. Writes `ctx.output.lint`.
 *
 * `validate` runs the same check on the files of the checkout berth was started in before the
 * pipeline's first step, so `impl` refuses a bad compose file before it claims a slot or makes a
 * worktree; `run` checks the instance's own files (a worktree's may differ).
 */
export const composeLintStep = defineStep({
  description:
    'check the compose files for container_name, fixed host ports and names, shared volumes, host-exposing ports and mounts',
  outputs: [lintOutput],
  async validate(ctx) {
    const config = composeSettings(ctx)
    if (!config.lint.enabled || ctx.instance) return
    const files = composeFilesFor(ctx, config)
    if (files.some((file) => !existsSync(file))) return // compose.up names a missing file itself
    throwOnErrors(await cachedLint(ctx.home, files, lintOptions(ctx, files)))
  },
  async run(ctx) {
    const config = composeSettings(ctx)
    if (!config.lint.enabled) {
      ctx.log.debug('compose lint is disabled (compose.lint.enabled: false)')
      ctx.output.lint = { errors: [], warnings: [], skipped: true }
      return
    }
    const files = composeFilesFor(ctx, config)
    const report = await cachedLint(ctx.home, files, lintOptions(ctx, files))
    ctx.output.lint = report
    for (const warning of report.warnings) ctx.log.warn(warning.text)
    throwOnErrors(report)
  },
})

function throwOnErrors(report: LintReport): void {
  if (report.errors.length === 0) return
  const count = report.errors.length === 1 ? '1 problem' : `${report.errors.length} problems`
  throw new UsageError(
    `compose lint found ${count} that break parallel instances or expose the host:\n${report.errors.map((e) => `  ${e.text}`).join('\n')}`,
    {
      code: 'E_COMPOSE_LINT',
      hint: 'fix the compose file, or exempt on purpose by name with compose.lint.allowFixedPorts / allowShared / allowMounts / allowAllInterfaces (or lint.enabled: false)',
      details: { errors: report.errors },
    },
  )
}

/**
 * What lint needs to judge the files as compose will: the variables compose resolves them with
 * (the project's `.env`, then berth's environment, then the instance's `.env.sandbox`), which of
 * them differ per instance (identity, slot, the port layout), and the allow-lists.
 */
export function lintOptions(ctx: TaskContext, files: string[]): LintOptions {
  const config = composeSettings(ctx)
  const projectDir = dirname(files[0] ?? join(ctx.config.root, 'compose.yaml'))
  const variables: VariableValues = { ...readDotEnvFile(join(projectDir, '.env')), ...process.env, ...ctx.env }
  const layout = Object.keys(ctx.services.slotPorts?.(ctx.instance?.slot ?? 1) ?? {})
  const instanceVariables = [
    ...new Set([
      ...IDENTITY_VARIABLES,
      'OTEL_RESOURCE_ATTRIBUTES',
      'BERTH_ARTIFACTS_DIR',
      ...layout,
      ...Object.keys(ctx.ports ?? {}),
    ]),
  ]
  return {
    allowFixedPorts: config.lint.allowFixedPorts,
    allowShared: config.lint.allowShared,
    allowMounts: config.lint.allowMounts,
    allowAllInterfaces: config.lint.allowAllInterfaces,
    allowHostAccess: config.lint.allowHostAccess,
    rendered: config.render.enabled,
    strict: config.lint.strict,
    cwd: ctx.cwd,
    variables,
    instanceVariables,
    home: variables.HOME ?? homedir(),
    projectDir,
  }
}

/**
 * Lints through a cache in `$BERTH_HOME/cache/lint/`, keyed by the files' paths and contents and
 * the options (of the variables, only those the files name): a compose file that has not changed
 * since the last `up` is not parsed again (the YAML parser is most of `compose.lint`'s time). Any
 * cache problem just means linting afresh.
 */
export async function cachedLint(home: string, files: string[], options: LintOptions): Promise<LintReport> {
  let texts: Buffer[]
  try {
    texts = files.map((file) => readFileSync(file))
  } catch {
    return lintComposeFiles(files, options) // a missing file: let lint report it
  }
  const named = new Set(texts.flatMap((text) => referencedVariables(text.toString('utf8'))))
  const variables = Object.fromEntries(
    Object.entries(options.variables ?? {}).filter(([name]) => named.has(name) || name === 'HOME'),
  )
  const keyed = { ...options, variables }
  const hash = createHash('sha256').update(JSON.stringify(keyed))
  for (const [index, file] of files.entries()) hash.update(`\0${file}\0`).update(texts[index] as Buffer)
  const cacheFile = join(home, 'cache', 'lint', `${hash.digest('hex')}.json`)
  try {
    return JSON.parse(await readFile(cacheFile, 'utf8')) as LintReport
  } catch {
    // not cached yet
  }
  const report = lintComposeFiles(files, keyed)
  try {
    await mkdir(join(home, 'cache', 'lint'), { recursive: true, mode: 0o700 })
    const temp = `${cacheFile}.${process.pid}`
    await writeFile(temp, JSON.stringify(report), { mode: 0o600 })
    await rename(temp, cacheFile)
  } catch {
    // a read-only or full BERTH_HOME only costs the next run a parse
  }
  return report
}
