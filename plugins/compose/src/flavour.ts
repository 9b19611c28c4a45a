import { EnvironmentError, UsageError } from '@berth/contract'

export interface ComposeFlavour {
  /** `v2`: the `docker compose` plugin; `v1`: the standalone `docker-compose` binary. */
  flavour: 'v2' | 'v1'
  /** The command words before compose's own arguments. */
  command: string[]
  /** As the tool reports it, e.g. `1.29.2`. */
  version: string
}

export interface DetectFlavourOptions {
  /** Reads `BERTH_COMPOSE` (`v1` | `v2`) from here; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Ignore the per-process cache. */
  refresh?: boolean
}

const CANDIDATES: Record<ComposeFlavour['flavour'], string[]> = {
  v2: ['docker', 'compose'],
  v1: ['docker-compose'],
}

const cache = new Map<string, Promise<ComposeFlavour>>()

/**
 * Finds the compose flavour to use: the `docker compose` v2 plugin, else the `docker-compose` v1
 * binary. `BERTH_COMPOSE=v1|v2` forces one. The answer is cached for the process.
 * Throws {@link EnvironmentError} (exit 4) when neither runs.
 */
export function detectComposeFlavour(options: DetectFlavourOptions = {}): Promise<ComposeFlavour> {
  const forced = (options.env ?? process.env).BERTH_COMPOSE?.trim() || ''
  if (forced !== '' && forced !== 'v1' && forced !== 'v2') {
    return Promise.reject(
      new UsageError(`BERTH_COMPOSE=${JSON.stringify(forced)} is not a compose flavour`, {
        hint: 'set BERTH_COMPOSE to v1 or v2, or unset it to detect the flavour',
      }),
    )
  }
  const key = forced || 'auto'
  const cached = options.refresh ? undefined : cache.get(key)
  if (cached) return cached
  const pending = probeFlavours(forced === '' ? ['v2', 'v1'] : [forced])
  cache.set(key, pending)
  pending.catch(() => cache.delete(key))
  return pending
}

async function probeFlavours(order: ComposeFlavour['flavour'][]): Promise<ComposeFlavour> {
  const failures: string[] = []
  for (const flavour of order) {
    const command = CANDIDATES[flavour]
    const { $ } = await import('zx/core')
    const result = await $({ quiet: true, nothrow: true, verbose: false })`${command} version --short`
    const version = result.stdout.trim().replace(/^v/, '')
    if (result.exitCode === 0 && /^\d+\.\d+/.test(version)) return { flavour, command, version }
    failures.push(`'${command.join(' ')}': ${firstLine(result.stderr) || `exit ${result.exitCode}`}`)
  }
  throw new EnvironmentError(`no Docker Compose found (${failures.join('; ')})`, {
    code: 'E_NO_COMPOSE',
    hint: 'install the Docker Compose v2 plugin (or the docker-compose v1 binary) and make sure it is on PATH',
    details: { tried: order.map((flavour) => CANDIDATES[flavour].join(' ')) },
  })
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? ''
}
