import { lazySchema } from '@berth/contract'
import * as z from 'zod'

/** A folder inside the instance: relative, without `..`. */
const relativeFolder = lazySchema(() =>
  z
    .string()
    .min(1)
    .refine((value) => !value.startsWith('/') && !value.split(/[\\/]/).includes('..'), {
      message: "must be a folder inside the instance (relative, no '..')",
    }),
)

/** The `evidence` config section. Users write the lenient form; steps read the resolved one. */
export const evidenceConfigSchema = lazySchema(() =>
  z
    .strictObject({
      /** Bundles go to `<instance>/<dir>/<UTC time>/`. */
      dir: relativeFolder.default('.sandbox/evidence'),
      /** Log lines kept per service. */
      logTail: z.int().min(1).max(100_000).default(200),
      /** Bundles kept per instance; older ones are removed after each new one. */
      keep: z.int().min(1).max(10_000).default(20),
    })
    .prefault({}),
)

export type EvidenceConfigInput = z.input<typeof evidenceConfigSchema>
export type EvidenceConfig = z.output<typeof evidenceConfigSchema>

/** One file of a bundle, relative to the bundle folder. */
export const bundleFileSchema = lazySchema(() =>
  z.object({
    path: z.string(),
    size: z.number().int(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
)
export type BundleFile = z.output<typeof bundleFileSchema>

/**
 * `manifest.json` of a bundle, and (with `manifest.json` itself added to `files`) the
 * `evidence` field of `berth evidence --json`. Part of the machine-output contract.
 */
export const evidenceManifestSchema = lazySchema(() =>
  z.object({
    version: z.literal(1),
    createdAt: z.string(),
    /** The pipeline that wrote the bundle: `evidence`, or `sandbox.up`, `gate`, `test.e2e`… (automatic). */
    task: z.string(),
    instance: z
      .object({
        id: z.string(),
        kind: z.string(),
        slot: z.number().nullable(),
        path: z.string(),
        branch: z.string().optional(),
      })
      .nullable(),
    /** Absolute path of the bundle folder. */
    dir: z.string(),
    /** Where `gate.json` came from: this run, an older bundle's folder name, or null when absent. */
    gateFrom: z.string().nullable(),
    /** The e2e artifacts folder copied into `e2e/`, or null. */
    e2eFrom: z.string().nullable(),
    /** Every file of the bundle with its size and SHA-256 (manifest.json itself only in `--json`). */
    files: z.array(bundleFileSchema),
    /** What could not be collected, and why (engine unreachable, no .env.sandbox…). */
    problems: z.array(z.string()),
  }),
)
export type EvidenceManifest = z.output<typeof evidenceManifestSchema>
