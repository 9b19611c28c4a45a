import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { EnvironmentError, importExternal, UsageError } from '@berth/contract'

export interface ComposeFlavour {
  /** `v2`: the `docker compose` plugin; `v1`: the standalone `docker-compose` binary. */
  flavour: 'v2' | 'v1'
  /**
   * The command words before compose's own arguments: for v2 the plugin binary itself, run
   * standalone (as `docker-compose`, which Compose v2 supports): it skips the docker CLI's start
   * (~50 ms a command) and the CLI's own telemetry attribute it would append to
   * `OTEL_RESOURCE_ATTRIBUTES`, which compose then interpolates into the containers.
   */
  command: string[]
  /** How the user would type it: `docker compose` or `docker-compose`. */
  label: string
  /** As the tool reports it, e.g. `1.29.2`. */
  version: string
}

export interface DetectFlavourOptions {
  /** Reads `BERTH_COMPOSE` (`v1` | `v2`), `PATH`, `HOME` and `DOCKER_CONFIG` from here; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Ignore the per-process cache. */
  refresh?: boolean
  /** Also run `<compose> version --short` (for doctor); otherwise `version` is ''. */
  withVersion?: boolean
}

const LABELS: Record<ComposeFlavour['flavour'], string> = {
  v2: 'docker compose',
  v1: 'docker-compose',
}

/** Where the docker CLI looks for its plugins (the v2 `docker-compose` plugin among them). */
function pluginDirs(env: NodeJS.ProcessEnv): string[] {
  const config = env.DOCKER_CONFIG ?? (env.HOME ? join(env.HOME, '.docker') : undefined)
  return [
    ...(config ? [join(config, 'cli-plugins')] : []),
    '/usr/local/lib/docker/cli-plugins',
    '/usr/local/libexec/docker/cli-plugins',
    '/usr/lib/docker/cli-plugins',
    '/usr/libexec/docker/cli-plugins',
  ]
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return statSync(file).isFile()
  } catch {
    return false
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name)
  }
  return undefined
}

/** Finds a flavour's executable by looking at the filesystem: no process is started. */
function locate(flavour: ComposeFlavour['flavour'], env: NodeJS.ProcessEnv): string | undefined {
  if (flavour === 'v1') return onPath('docker-compose', env)
  if (!onPath('docker', env)) return undefined
  return pluginDirs(env)
    .map((dir) => join(dir, 'docker-compose'))
    .find(isExecutable)
}

const cache = new Map<string, Promise<ComposeFlavour>>()

/**
 * Finds the compose flavour to use: the `docker compose` v2 plugin, else the `docker-compose` v1
 * binary. `BERTH_COMPOSE=v1|v2` forces one. Found by looking at PATH and the docker CLI's plugin
 * folders, so it costs no process start (a v1 `version` call alone takes ~0.5 s of Python);
 * `withVersion` also asks the tool for its version. Cached for the process.
 * Throws {@link EnvironmentError} (exit 4) when neither is installed.
 */
export function detectComposeFlavour(options: DetectFlavourOptions = {}): Promise<ComposeFlavour> {
  const env = options.env ?? process.env
  const forced = env.BERTH_COMPOSE?.trim() || ''
  if (forced !== '' && forced !== 'v1' && forced !== 'v2') {
    return Promise.reject(
      new UsageError(`BERTH_COMPOSE=${JSON.stringify(forced)} is not a compose flavour`, {
        hint: 'set BERTH_COMPOSE to v1 or v2, or unset it to detect the flavour',
      }),
    )
  }
  const key = `${forced || 'auto'}${options.withVersion ? '+version' : ''}`
  const cached = options.refresh ? undefined : cache.get(key)
  if (cached) return cached
  const pending = findFlavour(forced === '' ? ['v2', 'v1'] : [forced], env, options.withVersion === true)
  cache.set(key, pending)
  pending.catch(() => cache.delete(key))
  return pending
}

async function findFlavour(
  order: ComposeFlavour['flavour'][],
  env: NodeJS.ProcessEnv,
  withVersion: boolean,
): Promise<ComposeFlavour> {
  const failures: string[] = []
  for (const flavour of order) {
    const label = LABELS[flavour]
    const executable = locate(flavour, env)
    if (!executable) {
      failures.push(`'${label}': not installed`)
      continue
    }
    const command = [executable]
    if (!withVersion) return { flavour, command, label, version: '' }
    const { $ } = await importExternal('zx/core', () => import('zx/core'))
    const result = await $({ quiet: true, nothrow: true, verbose: false, env })`${command} version --short`
    const version = result.stdout.trim().replace(/^v/, '')
    if (result.exitCode === 0 && /^\d+\.\d+/.test(version)) return { flavour, command, label, version }
    failures.push(`'${label}': ${firstLine(result.stderr) || `exit ${result.exitCode}`}`)
  }
  throw new EnvironmentError(`no Docker Compose found (${failures.join('; ')})`, {
    code: 'E_NO_COMPOSE',
    hint: 'install the Docker Compose v2 plugin (or the docker-compose v1 binary) and make sure it is on PATH',
    details: { tried: order.map((flavour) => LABELS[flavour]) },
  })
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? ''
}
