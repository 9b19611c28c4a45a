import { defineOutput, lazySchema, table } from '@berth/contract'
import * as z from 'zod'
import { formatBytes } from './usage.js'

/** Built when a schema using it is (a module-level zod call would load zod for every command). */
const sharedDirShape = () => ({
  name: z.string(),
  /** The `.env.sandbox` variable carrying its host path. */
  env: z.string(),
  /** `$BERTH_HOME/shared/<name>`. */
  path: z.string(),
})

/** `shared` of `berth shared init --json`. */
export const initSharedReportSchema = lazySchema(() =>
  z.object({
    root: z.string(),
    source: z.object({ path: z.string(), kind: z.enum(['folder', 'tarball']) }).nullable(),
    /** What happened to each folder: copied from the source, created empty, or already there. */
    dirs: z.array(
      z.object({
        ...sharedDirShape(),
        action: z.enum(['copied', 'created', 'kept']),
        bytes: z.number(),
        files: z.number(),
      }),
    ),
    /** Named folders the source lacks (created empty). */
    missing: z.array(z.string()),
    /** Entries of the source that are not named folders: not copied. */
    ignored: z.array(z.string()),
    /** Folders this run created (what undo removes). */
    created: z.array(z.string()),
  }),
)
export type InitSharedReport = z.infer<typeof initSharedReportSchema>
export type InitSharedDir = InitSharedReport['dirs'][number]

/** `shared` of `berth shared status --json`. */
export const sharedStatusReportSchema = lazySchema(() =>
  z.object({
    root: z.string(),
    dirs: z.array(
      z.object({
        ...sharedDirShape(),
        exists: z.boolean(),
        bytes: z.number(),
        files: z.number(),
        /** Instances whose `.env.sandbox` carries this folder's path (so their compose mounts it). */
        instances: z.array(z.string()),
      }),
    ),
    /** Instances with a slot whose `.env.sandbox` lacks a shared folder's line (written before it was configured). */
    outdated: z.array(z.object({ id: z.string(), missing: z.array(z.string()) })),
  }),
)
export type SharedStatusReport = z.infer<typeof sharedStatusReportSchema>
export type SharedDirStatus = SharedStatusReport['dirs'][number]

export const initSharedOutput = defineOutput('shared', initSharedReportSchema, {
  description: 'the shared folders created or copied, and what the source held besides',
  render: (report) => [
    ...report.dirs.map((d) => `${d.action} ${d.path} (${d.files} files, ${formatBytes(d.bytes)})`),
    ...report.ignored.map((entry) => `ignored ${entry} (not a configured shared folder)`),
  ],
})

export const sharedStatusOutput = defineOutput('shared', sharedStatusReportSchema, {
  description: 'each shared folder: path, size, file count and the instances that mount it',
  render: (report) =>
    report.dirs.length === 0
      ? ['no shared folders configured (sharedData.dirs)']
      : table([
          ['NAME', 'VARIABLE', 'SIZE', 'FILES', 'MOUNTED BY'],
          ...report.dirs.map((d) => [
            d.name,
            d.env,
            d.exists ? formatBytes(d.bytes) : 'missing',
            String(d.files),
            d.instances.join(', ') || '-',
          ]),
        ]),
})
