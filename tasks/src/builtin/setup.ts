import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import {
  type BerthServices,
  ConflictError,
  defineOutput,
  definePlugin,
  defineStep,
  EnvironmentError,
  flag,
  lazySchema,
  type Plugin,
  slugify,
  UsageError,
} from '@berth/contract'
import * as z from 'zod'
import { inferredConfig, ktrdrConfig, minimalConfig } from './setup-config.js'
import { inferConfig, isKtrdrShaped } from './setup-infer.js'

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
/** Compose's own file names, in its order of preference, and the override file it adds to each. */
const COMPOSE_FILES = [
  ['compose.yaml', 'compose.override.yaml'],
  ['compose.yml', 'compose.override.yml'],
  ['docker-compose.yml', 'docker-compose.override.yml'],
  ['docker-compose.yaml', 'docker-compose.override.yaml'],
] as const

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

const inferenceSchema = lazySchema(() =>
  z.object({
    /** `compose`: read from the compose files; `ktrdr` / `minimal`: a preset (asked for, KTRDR-shaped, or no compose file). */
    source: z.enum(['compose', 'ktrdr', 'minimal']),
    /** The compose files found (relative to the repository). */
    files: z.array(z.string()),
    /** Why: one line per thing inferred or noticed. */
    reasons: z.array(z.string()),
  }),
)

export const setupChangedOutput = defineOutput(
  'changed',
  lazySchema(() => z.array(z.string())),
  {
    description: 'the files berth setup wrote (absolute paths); empty when nothing needed changing',
    render: (changed) =>
      changed.length === 0 ? ['berth setup: nothing to change'] : [`changed ${changed.length} file(s)`],
  },
)
export const setupDiffOutput = defineOutput(
  'diff',
  lazySchema(() => z.array(z.string())),
  {
    description: 'a diff of each written file',
    render: (diff) => diff,
  },
)
export const setupConfigOutput = defineOutput(
  'config',
  lazySchema(() => z.string()),
  {
    description: 'the config file of the repository (written now or already there)',
  },
)
export const setupInferredOutput = defineOutput('inferred', inferenceSchema, {
  description: 'what berth setup read from the compose files and why it wrote what it wrote',
  render: (inferred) => [
    inferred.source === 'compose'
      ? `inferred from ${inferred.files.join(', ')}:`
      : `${inferred.source} config${inferred.files.length > 0 ? ` (compose files: ${inferred.files.join(', ')})` : ''}:`,
    ...inferred.reasons.map((reason) => `  ${reason}`),
  ],
})

const setupFlags = {
  preset: flag.parsed(
    lazySchema(() => z.enum(['ktrdr', 'minimal'], { error: 'must be ktrdr or minimal' })),
    'write a preset instead of a config read from the compose files: ktrdr or minimal',
    { value: 'NAME' },
  ),
  force: flag.boolean('overwrite what differs (shown as a diff first)'),
}

const applyStep = defineStep({
  description: 'adds sandbox:* scripts, .gitignore entries and a berth.config.ts read from the compose files',
  effect: 'write',
  flags: setupFlags,
  outputs: [setupInferredOutput, setupDiffOutput, setupChangedOutput, setupConfigOutput],
  async run(ctx) {
    if (!ctx.repo) {
      throw new EnvironmentError(`${ctx.cwd} is not inside a git repository`, {
        hint: 'run berth setup in your repository',
      })
    }
    const force = ctx.flags.force === true
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
        if (force) scripts[name] = command
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
      const project = slugify(basename(ctx.repo.root)) || 'app'
      const starter = starterConfig(ctx.services, root, project, ctx.flags.preset)
      ctx.output.inferred = starter.inference
      planned.push({ file: join(root, 'berth.config.ts'), before: null, after: starter.text })
    }

    if (conflicts.length > 0 && !force) {
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
})

type Inference = z.infer<typeof inferenceSchema>

/**
 * The starter config: a preset when asked for (or when the compose file is KTRDR-shaped), else
 * one read from the compose files; the minimal one when there is no compose file.
 */
function starterConfig(
  services: BerthServices,
  root: string,
  project: string,
  preset: 'ktrdr' | 'minimal' | undefined,
): { text: string; inference: Inference } {
  const found = COMPOSE_FILES.find(([file]) => existsSync(join(root, file)))
  const files: string[] = found ? found.filter((file) => existsSync(join(root, file))) : []
  if (preset === 'ktrdr') {
    return {
      text: ktrdrConfig(project, files.length > 0 ? files : ['docker-compose.yml']),
      inference: { source: 'ktrdr', files, reasons: ['--preset ktrdr: the KTRDR port layout and gate'] },
    }
  }
  if (preset === 'minimal' || files.length === 0) {
    const reasons =
      files.length === 0
        ? [
            `no compose file found (${COMPOSE_FILES.map(([file]) => file).join(', ')}): wrote the minimal config — set compose.files, ports and gate yourself`,
          ]
        : ['--preset minimal: one example port and an empty gate']
    return { text: minimalConfig(project, files), inference: { source: 'minimal', files, reasons } }
  }
  const { describeCompose, portLayoutProblems } = services
  if (!describeCompose || !portLayoutProblems) {
    const reasons = ['the compose or ports plugin is replaced: wrote the minimal config']
    return { text: minimalConfig(project, files), inference: { source: 'minimal', files, reasons } }
  }
  const summary = describeCompose(files.map((file) => join(root, file)))
  if (isKtrdrShaped(summary)) {
    const reasons = [`${files[0]} publishes KTRDR_* port variables: the KTRDR preset fits it`]
    return { text: ktrdrConfig(project, files), inference: { source: 'ktrdr', files, reasons } }
  }
  const inferred = inferConfig(summary, 10, portLayoutProblems)
  const reasons = [
    ...Object.entries(inferred.ports).map(
      ([name, rule]) => `port ${name} = ${rule.base} + ${rule.stride}×slot: ${rule.reason}`,
    ),
    ...inferred.notes.slice(0, 1),
    ...inferred.checks.map(({ check, reason }) => `gate ${String(check.name)}: ${reason}`),
    ...inferred.notes.slice(1),
  ]
  return { text: inferredConfig(project, files, inferred), inference: { source: 'compose', files, reasons } }
}

/**
 * `berth:setup` — adds berth to a repository: `sandbox:*` scripts in package.json, `.env.sandbox`
 * and `.sandbox/` in .gitignore, and a commented `berth.config.ts` read from the compose files
 * (or a preset). It only adds: a script that exists with another command is a conflict shown as a
 * diff (exit 3, `--force` overwrites), and an existing config is never touched. A second run
 * changes nothing.
 */
export function setupPlugin(): Plugin {
  return definePlugin({ name: 'berth:setup', version: '0.1.0', steps: { apply: applyStep } })
}
