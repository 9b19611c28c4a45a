import { existsSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import type { InstanceRecord } from '@berth/contract'

export { composeProjectName } from '@berth/contract'

/** File names compose itself looks for, in its own order of preference. */
export const DEFAULT_COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml']

export interface ComposeFileLocation {
  /** `compose.files` from the config, or undefined for the default. */
  files: string[] | undefined
  /** Folder the config paths are relative to (`ctx.config.root`). */
  configRoot: string
  /** The main checkout (`ctx.repo.root`); the config root lives inside it. */
  repoRoot?: string | undefined
  /** The instance's checkout (`ctx.instance.path`), whose own copy of the files is used. */
  instancePath?: string | undefined
}

/**
 * Absolute paths of the compose files for one instance: each configured path is taken relative
 * to the config root, then re-rooted from the main checkout into the instance's checkout, so a
 * worktree runs its own compose file and bind-mounts its own source. Files outside the
 * repository are used where they are. With no `files`, the first of {@link DEFAULT_COMPOSE_FILES}
 * that exists (else `docker-compose.yml`).
 */
export function resolveComposeFiles(location: ComposeFileLocation): string[] {
  const reroot = (file: string): string => {
    const inConfig = resolve(location.configRoot, file)
    if (!location.instancePath) return inConfig
    const base = location.repoRoot ?? location.configRoot
    const inRepo = relative(base, inConfig)
    if (inRepo.startsWith('..') || isAbsolute(inRepo)) return inConfig
    return join(location.instancePath, inRepo)
  }
  if (location.files && location.files.length > 0) return location.files.map(reroot)
  const found = DEFAULT_COMPOSE_FILES.map(reroot).find((file) => existsSync(file))
  return [found ?? reroot('docker-compose.yml')]
}

/**
 * Parses and merges `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k=v`): `overrides` win, other existing
 * attributes are kept after them in their order.
 */
export function mergeResourceAttributes(existing: string | undefined, overrides: Record<string, string>): string {
  const merged = new Map(Object.entries(overrides))
  for (const part of (existing ?? '').split(',')) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    const key = part.slice(0, eq).trim()
    if (!merged.has(key)) merged.set(key, part.slice(eq + 1).trim())
  }
  return [...merged].map(([key, value]) => `${key}=${value}`).join(',')
}

export interface ComposeEnvironmentInput {
  instance: Pick<InstanceRecord, 'id' | 'kind' | 'slot'>
  /** The `.env.sandbox` values. */
  env: Record<string, string>
  /** Secret values: they reach compose only through this environment. */
  secretEnv: Record<string, string>
  /** Defaults to `process.env`. */
  baseEnv?: NodeJS.ProcessEnv
  /** `compose.observability`; `shared` adds `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  observability?: { mode: 'per-instance' | 'shared'; endpoint?: string | undefined } | undefined
  /** Extra non-secret variables for this one command (e.g. `BERTH_ARTIFACTS_DIR`); they win. */
  extra?: Record<string, string> | undefined
}

/**
 * The environment of the compose process: the caller's environment, then the instance's
 * `.env.sandbox` values, then secrets, then the telemetry identity (`INSTANCE_ID`, `SLOT_NUMBER`,
 * `OTEL_RESOURCE_ATTRIBUTES` with `instance.id` and `deployment.environment`, and with a shared
 * collector `OTEL_EXPORTER_OTLP_ENDPOINT`), then `extra`.
 */
export function composeEnvironment(input: ComposeEnvironmentInput): NodeJS.ProcessEnv {
  const baseEnv = input.baseEnv ?? process.env
  const env: NodeJS.ProcessEnv = { ...baseEnv, ...input.env, ...input.secretEnv }
  // The instance's own id, even when the caller's shell exported another instance's.
  env.INSTANCE_ID = input.instance.id
  if (input.instance.slot !== null) {
    env.SLOT_NUMBER = String(input.instance.slot)
  }
  env.OTEL_RESOURCE_ATTRIBUTES = mergeResourceAttributes(
    input.env.OTEL_RESOURCE_ATTRIBUTES ?? baseEnv.OTEL_RESOURCE_ATTRIBUTES,
    {
      'instance.id': input.instance.id,
      'deployment.environment': input.instance.kind === 'local-prod' ? 'local-prod' : 'sandbox',
    },
  )
  if (input.observability?.mode === 'shared' && input.observability.endpoint) {
    env.OTEL_EXPORTER_OTLP_ENDPOINT = input.observability.endpoint
  }
  return { ...env, ...input.extra }
}
