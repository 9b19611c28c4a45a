import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { ConflictError, definePlugin, EnvironmentError, type Plugin, slugify, UsageError } from '@berth/contract'

/** The package.json scripts `berth setup` adds: `pnpm sandbox:impl my-feature` and friends. */
export const SANDBOX_SCRIPTS: Record<string, string> = {
  'sandbox:impl': 'berth impl',
  'sandbox:spec': 'berth spec',
  'sandbox:done': 'berth done',
  'sandbox:init': 'berth sandbox init',
  'sandbox:up': 'berth sandbox up',
  'sandbox:down': 'berth sandbox down',
  'sandbox:status': 'berth sandbox status',
  'sandbox:list': 'berth sandbox list',
  'sandbox:slots': 'berth sandbox slots',
  'sandbox:logs': 'berth sandbox logs',
  'sandbox:destroy': 'berth sandbox destroy',
  'sandbox:gate': 'berth gate',
  'sandbox:test': 'berth test e2e',
  'sandbox:doctor': 'berth doctor',
}

const IGNORED = ['.env.sandbox', '.sandbox/']
const CONFIG_FILES = [
  'berth.config.ts',
  'berth.config.mts',
  'berth.config.mjs',
  'berth.config.js',
  'berth.config.json',
  '.berthrc',
  '.berthrc.json',
]
const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml']

function starterConfig(preset: string, project: string, composeFile: string): string {
  const head = `// berth config — see 'berth config schema' for every key, 'berth config show' for what is in force.
import type { BerthUserConfig } from 'berth'

export default {
  // Folder prefix and compose project prefix: ../${project}-impl-<feature>
  project: '${project}',
  compose: { files: ['${composeFile}'] },
  // impl claims the lowest free pool slot; --slot N takes one of the others (up to max).
  slots: { pool: [1, 2], max: 10 },
`
  const ktrdr = `  // No 'ports' section: the KTRDR preset applies (slot N -> API 8000+N, DB 5432+N, Grafana 3000+N,
  // Jaeger UI 16686+N, OTLP 4317+10N/4318+10N, Prometheus 9090+N, workers 5007+(N-1)*10..+3) together
  // with its gate (db TCP, backend /api/v1/health, 4 workers, observability UI).
  secrets: {
    provider: '1password',
    item: '${project}-sandbox-dev',
    fields: { db_password: 'DB_PASSWORD' },
    // Used (with one warning) when op is missing or --no-secrets is given; local-prod refuses instead.
    defaults: { DB_PASSWORD: 'localdev' },
  },
} satisfies BerthUserConfig
`
  const minimal = `  // Host ports: each variable is base + slot * stride; use them in ${composeFile} as
  // "127.0.0.1:\${API_PORT}:8000".
  ports: {
    API_PORT: { base: 9100 },
  },
  secrets: { provider: 'none' },
  gate: {
    timeout: 60,
    checks: [
      // { name: 'api', http: 'http://127.0.0.1:\${API_PORT}/health', service: 'api' },
    ],
  },
} satisfies BerthUserConfig
`
  return head + (preset === 'minimal' ? minimal : ktrdr)
}

interface PlannedFile {
  file: string
  before: string | null
  after: string
}

function diff(file: string, before: string | null, after: string): string {
  const old = before === null ? [] : before.split('\n')
  const next = after.split('\n')
  const lines = [`--- ${before === null ? '/dev/null' : file}`, `+++ ${file}`]
  for (const line of old) if (!next.includes(line)) lines.push(`-${line}`)
  for (const line of next) if (!old.includes(line)) lines.push(`+${line}`)
  return lines.join('\n')
}

/**
 * `berth:setup` — adds berth to a repository: `sandbox:*` scripts in package.json, `.env.sandbox`
 * and `.sandbox/` in .gitignore, and a commented starter `berth.config.ts`. It only adds: a
 * script that exists with another command is a conflict shown as a diff (exit 3, `--force`
 * overwrites), and an existing config is never touched. A second run changes nothing.
 */
export function setupPlugin(): Plugin {
  return definePlugin({
    name: 'berth:setup',
    version: '0.1.0',
    steps: {
      apply: {
        description: 'adds sandbox:* scripts, .gitignore entries and a starter berth.config.ts',
        effect: 'write',
        async run(ctx) {
          if (!ctx.repo) {
            throw new EnvironmentError(`${ctx.cwd} is not inside a git repository`, {
              hint: 'run berth setup in your repository',
            })
          }
          const preset = typeof ctx.args.flags.preset === 'string' ? ctx.args.flags.preset : 'ktrdr'
          if (!['ktrdr', 'minimal'].includes(preset)) {
            throw new UsageError(`unknown preset ${JSON.stringify(preset)}`, {
              hint: 'use --preset ktrdr or --preset minimal',
            })
          }
          const root = ctx.repo.checkout
          const planned: PlannedFile[] = []
          const conflicts: string[] = []

          const pkgFile = join(root, 'package.json')
          const pkgText = existsSync(pkgFile) ? await readFile(pkgFile, 'utf8') : null
          let pkg: { scripts?: Record<string, string> } & Record<string, unknown>
          try {
            pkg = pkgText === null ? { name: slugify(basename(root)), private: true } : JSON.parse(pkgText)
          } catch (error) {
            throw new UsageError(`${pkgFile} is not valid JSON: ${(error as Error).message}`, {
              hint: 'fix it, then run berth setup again',
            })
          }
          const scripts = { ...(pkg.scripts ?? {}) }
          for (const [name, command] of Object.entries(SANDBOX_SCRIPTS)) {
            if (scripts[name] === undefined) scripts[name] = command
            else if (scripts[name] !== command) {
              conflicts.push(
                `package.json scripts.${name}: has ${JSON.stringify(scripts[name])}, berth would set ${JSON.stringify(command)}`,
              )
              if (ctx.args.flags.force === true) scripts[name] = command
            }
          }
          const pkgAfter = `${JSON.stringify({ ...pkg, scripts }, null, 2)}\n`
          if (pkgText === null || JSON.stringify(JSON.parse(pkgText)) !== JSON.stringify(JSON.parse(pkgAfter))) {
            planned.push({ file: pkgFile, before: pkgText, after: pkgAfter })
          }

          const ignoreFile = join(root, '.gitignore')
          const ignoreText = existsSync(ignoreFile) ? await readFile(ignoreFile, 'utf8') : null
          const present = new Set((ignoreText ?? '').split('\n').map((l) => l.trim()))
          const missing = IGNORED.filter((entry) => !present.has(entry))
          if (missing.length > 0) {
            const base =
              ignoreText === null ? '' : ignoreText.endsWith('\n') || ignoreText === '' ? ignoreText : `${ignoreText}\n`
            planned.push({
              file: ignoreFile,
              before: ignoreText,
              after: `${base}# berth: per-instance files\n${missing.join('\n')}\n`,
            })
          }

          const existingConfig = CONFIG_FILES.find((f) => existsSync(join(root, f)))
          if (!existingConfig) {
            const composeFile = COMPOSE_FILES.find((f) => existsSync(join(root, f))) ?? 'compose.yaml'
            planned.push({
              file: join(root, 'berth.config.ts'),
              before: null,
              after: starterConfig(preset, slugify(basename(ctx.repo.root)) || 'app', composeFile),
            })
          }

          if (conflicts.length > 0 && ctx.args.flags.force !== true) {
            throw new ConflictError(`berth setup would change what exists:\n  ${conflicts.join('\n  ')}`, {
              code: 'E_SETUP_CONFLICT',
              hint: 'nothing was written; pass --force to overwrite those entries',
              details: { conflicts, diff: planned.map((p) => diff(p.file, p.before, p.after)) },
            })
          }
          for (const change of planned) {
            await writeFile(change.file, change.after)
            ctx.log.info(`${change.before === null ? 'created' : 'updated'} ${change.file}`)
          }
          ctx.output.changed = planned.map((p) => p.file)
          ctx.output.diff = planned.map((p) => diff(p.file, p.before, p.after))
          ctx.output.config = existingConfig ? join(root, existingConfig) : join(root, 'berth.config.ts')
        },
      },
    },
  })
}
