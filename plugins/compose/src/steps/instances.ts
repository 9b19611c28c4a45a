import { existsSync, readFileSync } from 'node:fs'
import type { Diagnosis, InstanceRecord, TaskContext } from '@berth/contract'
import { listComposeContainers } from '@berth/engine'
import { composeProjectName, resolveComposeFiles } from '../project.js'
import { type ProjectStatus, projectStatus } from '../status.js'
import { yaml } from '../yaml-lazy.js'
import { composeSettings } from './context.js'

/** One registered instance's stack as `berth doctor` sees it. */
export interface InstanceStack {
  id: string
  path: string
  status: ProjectStatus
  /** Services the compose files start (`up` without profiles), when they could be read. */
  declared: string[] | undefined
  /** True when a stack exists but is not whole: a service missing, stopped or unhealthy. */
  partial: boolean
  detail: string
}

/**
 * Services `up` starts from these compose files: every service without `profiles`, or with a
 * profile in `profiles`. Undefined when a file cannot be read or parsed.
 */
export function declaredServices(files: string[], profiles: string[] = []): string[] | undefined {
  const services = new Set<string>()
  for (const file of files) {
    if (!existsSync(file)) return undefined
    let doc: { services?: Record<string, { profiles?: string[] } | null> } | null
    try {
      doc = yaml().parse(readFileSync(file, 'utf8')) as typeof doc
    } catch {
      return undefined
    }
    for (const [name, service] of Object.entries(doc?.services ?? {})) {
      const wanted = service?.profiles
      if (!wanted || wanted.length === 0 || wanted.some((p) => profiles.includes(p))) services.add(name)
    }
  }
  return [...services].sort()
}

/** The stack of every registered instance with a slot, from one engine request for all. */
export async function instanceStacks(ctx: TaskContext): Promise<InstanceStack[]> {
  const instances = ((await ctx.services.listInstances?.()) ?? []).filter((i) => i.slot !== null)
  if (instances.length === 0) return []
  const containers = await listComposeContainers()
  const config = composeSettings(ctx)
  return instances.map((instance) => describeStack(ctx, instance, containers, config))
}

function describeStack(
  ctx: TaskContext,
  instance: InstanceRecord,
  containers: Awaited<ReturnType<typeof listComposeContainers>>,
  config: ReturnType<typeof composeSettings>,
): InstanceStack {
  const files = resolveComposeFiles({
    files: config.files,
    configRoot: ctx.config.root,
    repoRoot: ctx.repo?.root,
    instancePath: instance.path,
  })
  const declared = config.services ?? declaredServices(files, config.profiles)
  const status = projectStatus(containers, composeProjectName(instance.id), declared)
  const running = status.containers.filter((c) => c.state === 'running').length
  const missing = (declared ?? []).filter((s) => !status.containers.some((c) => c.service === s))
  const sick = status.containers.filter((c) => c.health === 'unhealthy').map((c) => c.service)
  const starting = status.containers.filter((c) => c.health === 'starting').map((c) => c.service)
  const parts = [`${status.state}, ${running}/${status.containers.length} container(s) running`]
  if (status.state !== 'absent' && missing.length > 0) parts.push(`not created: ${missing.join(', ')}`)
  if (sick.length > 0) parts.push(`unhealthy: ${sick.join(', ')}`)
  if (starting.length > 0) parts.push(`health starting: ${starting.join(', ')}`)
  const partial = status.state === 'partial' || sick.length > 0
  return { id: instance.id, path: instance.path, status, declared, partial, detail: parts.join('; ') }
}

/** Registered instances whose stack exists but is not whole (a start that was interrupted). */
export async function partialStacks(ctx: TaskContext): Promise<InstanceStack[]> {
  return (await instanceStacks(ctx)).filter((stack) => stack.partial)
}

/**
 * `berth doctor`: one line per registered instance with its stack state; a partial or unhealthy
 * stack is a warning (an `impl` or `up` that was interrupted, or a service that died).
 */
export async function diagnoseInstanceStacks(ctx: TaskContext): Promise<Diagnosis[]> {
  return (await instanceStacks(ctx)).map((stack) =>
    stack.partial
      ? {
          check: 'instance stack',
          status: 'warn',
          detail: `${stack.id}: ${stack.detail}`,
          hint: `start it again with 'berth sandbox up' in ${stack.path}, or remove it with 'berth done ${stack.id} --force'`,
        }
      : { check: 'instance stack', status: 'ok', detail: `${stack.id}: ${stack.detail}` },
  )
}
