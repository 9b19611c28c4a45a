import type { PipelineOutcome, Plugin, Step, TaskContext } from '@berth/contract'
import { bundlesParent, collectEvidence, evidenceSettings } from './collect.js'
import { evidenceConfigSchema } from './schema.js'
import { EVIDENCE_VERSION } from './version.js'

/** Pipelines that leave a bundle behind on their own, whether they passed or failed. */
export const AUTOMATIC_TASKS = ['sandbox.up', 'local-prod.up', 'impl', 'gate', 'test.e2e'] as const

export interface EvidencePluginOptions {
  /** Pipelines that write a bundle automatically (default {@link AUTOMATIC_TASKS}). */
  automatic?: readonly string[]
}

/** The plugin with its step names known to the type checker. */
export interface EvidencePlugin extends Plugin {
  steps: { collect: Step }
  finalize(ctx: TaskContext, outcome: PipelineOutcome): Promise<void>
}

/**
 * `berth:evidence`: `evidence.collect` writes a bundle (config, .env.sandbox, gate report,
 * container state, log tails, git state, e2e artifacts; secrets redacted) and `finalize` writes
 * one after every `up`, `impl`, `gate` and `test e2e`, so a failed run leaves its evidence.
 */
export function evidencePlugin(options: EvidencePluginOptions = {}): EvidencePlugin {
  const automatic = new Set(options.automatic ?? AUTOMATIC_TASKS)
  return {
    name: 'berth:evidence',
    version: EVIDENCE_VERSION,
    config: { evidence: evidenceConfigSchema },
    steps: {
      collect: {
        description: 'write an evidence bundle of the instance (secrets redacted); --out DIR to choose the folder',
        effect: 'write',
        plan: (ctx) =>
          typeof ctx.args.flags.out === 'string'
            ? `write an evidence bundle into ${ctx.args.flags.out}`
            : `write an evidence bundle into ${ctx.instance ? bundlesParent(ctx, ctx.instance) : evidenceSettings(ctx).dir}/<UTC time>`,
        async run(ctx) {
          const out = ctx.args.flags.out
          const manifest = await collectEvidence(ctx, {
            out: typeof out === 'string' ? out : undefined,
            newestArtifacts: true,
          })
          ctx.output.evidence = manifest
          ctx.log.info(`evidence: ${manifest.files.length} files in ${manifest.dir}`)
          for (const problem of manifest.problems) ctx.log.warn(`evidence: ${problem}`)
        },
        // No undo: a bundle is a record of what happened; a later failure does not unmake it.
      },
    },
    async finalize(ctx, outcome) {
      if (!shouldCollect(ctx, outcome, automatic)) return
      try {
        const manifest = await collectEvidence(ctx, { outcome })
        ctx.output.evidenceDir = manifest.dir
        ctx.log.info(`evidence: ${manifest.dir}`)
      } catch (error) {
        ctx.log.warn(`evidence: no bundle written: ${ctx.redactor.redact((error as Error).message)}`)
      }
    },
  }
}

/**
 * An automatic task (or any task whose lifecycle hooks ran) with an instance, not a dry run, not
 * a passed `--no-wait` start (nothing was checked); `impl` only once it reached `compose.up`.
 */
export function shouldCollect(ctx: TaskContext, outcome: PipelineOutcome, automatic: Set<string>): boolean {
  // A `down` whose before-down hooks ran (a dump) leaves their record too.
  const hooksRan = Array.isArray(ctx.output.hooks) && ctx.output.hooks.length > 0
  if (!(automatic.has(ctx.task) || hooksRan) || !ctx.instance) return false
  if (ctx.args.flags['dry-run'] === true) return false
  // `up --no-wait` that passed: no gate ran, no hook ran, nothing to prove (and it is meant to be
  // fast); a failed one still leaves its bundle.
  if (outcome.ok && ctx.args.flags['no-wait'] === true && ctx.output.gate === undefined && !hooksRan) return false
  if (ctx.task === 'impl') return outcome.timings.some((timing) => timing.step === 'compose.up')
  return true
}
