import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Diagnosis, InstanceRecord, TaskContext } from '@berth/contract'
import { engineRequest, listComposeContainers } from '@berth/engine'
import { describeSensitiveMount, normaliseHostPath, sensitiveMount } from '../lint/mounts.js'
import type { LintRule } from '../lint/report.js'
import { isAllInterfaces } from '../lint/syntax.js'
import { composeProjectName } from '../project.js'
import type { ComposeConfig } from '../schema.js'
import { composeSettings } from './context.js'

/** What `berth doctor` reads back from the engine for one running container. */
interface InspectedContainer {
  Mounts?: { Type?: string; Source?: string; Destination?: string }[] | null
  HostConfig?: {
    Privileged?: boolean
    CapAdd?: string[] | null
    NetworkMode?: string
    PidMode?: string
    IpcMode?: string
    UTSMode?: string
    UsernsMode?: string
    PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null
  }
}

/** One running container of an instance breaking a strict-mode rule. */
export interface GuardrailBreach {
  instance: string
  service: string
  rule: LintRule
  message: string
}

/** Namespaces lint judges (`pid: host` …) and the engine's name for each. `cgroup` is left out: engines on cgroup v1 report `host` by default. */
const NAMESPACES: [keyof NonNullable<InspectedContainer['HostConfig']>, string][] = [
  ['PidMode', 'pid'],
  ['IpcMode', 'ipc'],
  ['UTSMode', 'uts'],
  ['UsernsMode', 'userns_mode'],
]

/**
 * The rules `compose.lint.strict` makes errors, judged on what the engine says the running
 * containers of this project's instances really have — whatever compose file (or hand-run
 * `docker compose`) started them: `privileged`, `cap_add`, host network and namespaces, a bind of
 * the docker socket, `/`, `/etc` or a home folder, a port published on all interfaces. The config's
 * allow-lists apply as they do to lint. One engine request lists the containers, one per running
 * container inspects it.
 */
export async function findGuardrailBreaches(
  ctx: TaskContext,
  instances: InstanceRecord[],
): Promise<{ breaches: GuardrailBreach[]; running: number }> {
  const byProject = new Map(instances.map((instance) => [composeProjectName(instance.id), instance]))
  const containers = (await listComposeContainers()).filter(
    (c) => c.State === 'running' && byProject.has(c.Labels['com.docker.compose.project'] ?? ''),
  )
  const config = composeSettings(ctx)
  const breaches = new Map<string, GuardrailBreach>()
  const runningInstances = new Set<string>()
  await Promise.all(
    containers.map(async (container) => {
      const instance = byProject.get(container.Labels['com.docker.compose.project'] ?? '')!
      runningInstances.add(instance.id)
      const service = container.Labels['com.docker.compose.service'] ?? container.Names[0]?.replace(/^\//, '') ?? '?'
      const inspected = await engineRequest<InspectedContainer>(`/containers/${container.Id}/json`, {
        timeoutMs: 10_000,
      }).catch(() => undefined)
      if (!inspected) return
      for (const found of containerBreaches(inspected, service, instance, config, ctx.home)) {
        const breach = { instance: instance.id, service, ...found }
        breaches.set(`${breach.instance}\u0000${service}\u0000${breach.rule}\u0000${breach.message}`, breach)
      }
    }),
  )
  const sorted = [...breaches.values()].sort((a, b) =>
    `${a.instance} ${a.service} ${a.rule}`.localeCompare(`${b.instance} ${b.service} ${b.rule}`),
  )
  return { breaches: sorted, running: runningInstances.size }
}

function containerBreaches(
  inspected: InspectedContainer,
  service: string,
  instance: InstanceRecord,
  config: ComposeConfig,
  berthHome: string,
): { rule: LintRule; message: string }[] {
  const found: { rule: LintRule; message: string }[] = []
  const host = inspected.HostConfig ?? {}
  const lint = config.lint
  const hostAccess = !lint.allowHostAccess.includes(service)
  if (host.Privileged === true && hostAccess) {
    found.push({ rule: 'privileged', message: "runs privileged (every capability and the host's devices)" })
  }
  if ((host.CapAdd ?? []).length > 0 && hostAccess) {
    found.push({ rule: 'cap-add', message: `has the added capabilities ${(host.CapAdd ?? []).join(', ')}` })
  }
  if (host.NetworkMode === 'host') found.push({ rule: 'host-network', message: "shares the host's network" })
  for (const [field, name] of NAMESPACES) {
    if (host[field] === 'host' && hostAccess) {
      found.push({ rule: 'host-namespace', message: `shares the host's ${name.replace('_mode', '')} namespace` })
    }
  }
  const paths = { home: process.env.HOME ?? homedir(), projectDir: instance.path }
  // berth's own shared data folders reach containers through .env.sandbox on purpose.
  const shared = join(berthHome, 'shared')
  for (const mount of inspected.Mounts ?? []) {
    if (mount.Type !== 'bind' || !mount.Source) continue
    const path = normaliseHostPath(mount.Source, paths)
    if (path === shared || path.startsWith(`${shared}/`)) continue
    const kind = sensitiveMount(path, paths)
    if (!kind) continue
    if (lint.allowMounts.some((entry) => entry === mount.Source || normaliseHostPath(entry, paths) === path)) continue
    found.push({
      rule: kind === 'host-root' ? 'host-root-mount' : 'sensitive-mount',
      message: `bind-mounts ${describeSensitiveMount(kind, path)} at ${mount.Destination ?? '?'}`,
    })
  }
  if (!lint.allowAllInterfaces.includes(service)) {
    for (const [port, bindings] of Object.entries(host.PortBindings ?? {})) {
      for (const binding of bindings ?? []) {
        if (!isAllInterfaces(binding.HostIp ?? '')) continue
        found.push({
          rule: 'port-all-interfaces',
          message: `publishes ${port} on all interfaces (${binding.HostIp || 'no host IP'}:${binding.HostPort ?? '?'})`,
        })
      }
    }
  }
  return found
}

/**
 * `berth doctor`'s `guardrails` findings for this project's running instances: one per instance,
 * service and rule. A warning while `compose.lint.strict` is off (the config allows what the stack
 * does), a failure (exit 1) when it is on (the stack breaks rules the config demands — started
 * before strict mode, or by hand).
 */
export async function diagnoseGuardrails(ctx: TaskContext, instances: InstanceRecord[]): Promise<Diagnosis[]> {
  const { breaches, running } = await findGuardrailBreaches(ctx, instances)
  const strict = composeSettings(ctx).lint.strict
  if (breaches.length === 0) {
    return [
      {
        check: 'guardrails',
        status: 'ok',
        detail: `${running} running instance(s): none breaks the strict rules (privileged, cap_add, host network/namespaces, sensitive binds, ports on all interfaces)`,
      },
    ]
  }
  return breaches.map((breach) => ({
    check: 'guardrails',
    status: strict ? ('fail' as const) : ('warn' as const),
    detail: `${breach.instance}: service "${breach.service}" breaks ${breach.rule}: ${breach.message}`,
    hint: strict
      ? `compose.lint.strict is on and this running stack breaks it: fix the compose file, then 'berth sandbox up' the instance again (or 'berth done ${breach.instance}')`
      : `allowed while compose.lint.strict is off; with strict mode on, 'up' refuses this compose file`,
    ...(strict ? { exitCode: 1 as const } : {}),
  }))
}
