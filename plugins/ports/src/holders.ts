import { readdir, readFile, readlink } from 'node:fs/promises'
import type { EngineContainer, PortHolder } from '@berth/contract'
import { engineRequest } from '@berth/engine'

/**
 * Names who holds each of `ports`: a Docker container publishing it (from the engine API, one
 * request) or a process (pid and command, from /proc). Ports nobody can be found for are
 * reported as `unknown holder`.
 */
export async function findPortHolders(ports: number[]): Promise<PortHolder[]> {
  if (ports.length === 0) return []
  const [containers, processes] = await Promise.all([containerHolders(ports), processHolders(ports)])
  return ports.map(
    (port) =>
      containers.get(port) ??
      processes.get(port) ?? { port, description: `unknown holder (not visible in /proc; another user or namespace)` },
  )
}

/** Containers (any, not only compose ones) publishing one of `ports`; empty when no engine answers. */
export async function containerHolders(ports: number[]): Promise<Map<number, PortHolder>> {
  const wanted = new Set(ports)
  const found = new Map<number, PortHolder>()
  let containers: EngineContainer[]
  try {
    containers = await engineRequest<EngineContainer[]>('/containers/json', { timeoutMs: 1000 })
  } catch {
    return found
  }
  for (const container of containers) {
    for (const published of container.Ports ?? []) {
      if (published.PublicPort === undefined || !wanted.has(published.PublicPort)) continue
      const name = (container.Names[0] ?? container.Id.slice(0, 12)).replace(/^\//, '')
      const project = container.Labels['com.docker.compose.project']
      found.set(published.PublicPort, {
        port: published.PublicPort,
        container: name,
        ...(project ? { project } : {}),
        description: `container ${name}${project ? ` (compose project ${project})` : ''}`,
      })
    }
  }
  return found
}

/** Listening sockets from /proc/net/tcp{,6} matched to the processes whose fds hold them. */
export async function processHolders(ports: number[]): Promise<Map<number, PortHolder>> {
  const wanted = new Set(ports)
  const inodeToPort = new Map<string, number>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '')
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      const local = fields[1]
      const state = fields[3]
      const inode = fields[9]
      if (!local || state !== '0A' || !inode || inode === '0') continue
      const port = Number.parseInt(local.split(':')[1] ?? '', 16)
      if (wanted.has(port)) inodeToPort.set(inode, port)
    }
  }
  const found = new Map<number, PortHolder>()
  if (inodeToPort.size === 0) return found
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((entry) => /^\d+$/.test(entry))
  await Promise.all(
    pids.map(async (pid) => {
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])
      for (const fd of fds) {
        const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1]
        const port = inode ? inodeToPort.get(inode) : undefined
        if (port === undefined || found.has(port)) continue
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
        const command = cmdline.split('\0').filter(Boolean).join(' ')
        found.set(port, {
          port,
          pid: Number(pid),
          command,
          description: `pid ${pid} (${command || 'unknown command'})`,
        })
      }
    }),
  )
  return found
}
