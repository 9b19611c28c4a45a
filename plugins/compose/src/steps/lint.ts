import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Step, UsageError } from '@berth/contract'
import { lintComposeFiles } from '../lint.js'
import type { LintOptions, LintReport } from '../lint-report.js'
import { composeFilesFor, composeSettings } from './context.js'

/**
 * `compose.lint`: checks the instance's compose files for what breaks parallel instances before
 * anything starts. Errors stop the task (exit 2) naming file:line and service; warnings are logged.
 * Writes `ctx.output.lint = { errors, warnings }`.
 */
export const composeLintStep: Step = {
  description: 'check the compose files for container_name, fixed host ports, shared volumes and broad mounts',
  async run(ctx) {
    const config = composeSettings(ctx)
    if (!config.lint.enabled) {
      ctx.log.debug('compose lint is disabled (compose.lint.enabled: false)')
      ctx.output.lint = { errors: [], warnings: [], skipped: true }
      return
    }
    const report = await cachedLint(ctx.home, composeFilesFor(ctx, config), {
      allowFixedPorts: config.lint.allowFixedPorts,
      allowShared: config.lint.allowShared,
      cwd: ctx.cwd,
    })
    ctx.output.lint = report
    for (const warning of report.warnings) ctx.log.warn(warning.text)
    if (report.errors.length === 0) return
    const count = report.errors.length === 1 ? '1 problem' : `${report.errors.length} problems`
    throw new UsageError(
      `compose lint found ${count} that break parallel instances:\n${report.errors.map((e) => `  ${e.text}`).join('\n')}`,
      {
        code: 'E_COMPOSE_LINT',
        hint: 'fix the compose file, or exempt on purpose with compose.lint.allowFixedPorts / allowShared (or lint.enabled: false)',
        details: { errors: report.errors },
      },
    )
  },
}

/**
 * Lints through a cache in `$BERTH_HOME/cache/lint/`, keyed by the files' paths and contents and
 * the options: a compose file that has not changed since the last `up` is not parsed again (the
 * YAML parser is most of `compose.lint`'s time). Any cache problem just means linting afresh.
 */
export async function cachedLint(home: string, files: string[], options: LintOptions): Promise<LintReport> {
  const hash = createHash('sha256').update(JSON.stringify(options))
  try {
    for (const file of files) hash.update(`\0${file}\0`).update(readFileSync(file))
  } catch {
    return lintComposeFiles(files, options) // a missing file: let lint report it
  }
  const cacheFile = join(home, 'cache', 'lint', `${hash.digest('hex')}.json`)
  try {
    return JSON.parse(await readFile(cacheFile, 'utf8')) as LintReport
  } catch {
    // not cached yet
  }
  const report = lintComposeFiles(files, options)
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
