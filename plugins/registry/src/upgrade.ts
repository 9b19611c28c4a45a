import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseEnvFile } from '@berth/contract'
import type { RegistryUpgrade } from './outputs.js'
import { REGISTRY_VERSION, type Registry, type StoredInstance, type StoredInstanceV1 } from './schema.js'

/** Host ports of a slot in the default layout (the ports plugin's `defaultSlotPorts`). */
export type AssumePorts = (slot: number) => Record<string, number>

/**
 * Version 1 -> 2: every claim keeps every field and gains `ports`. A claim's ports are read from
 * its `.env.sandbox` (every value that is a port number, except `SLOT_NUMBER`), the instance's
 * source of truth; when that file is missing, unreadable, names another instance or holds no
 * port, the claim is taken to hold its slot's ports in the default layout and is marked
 * `portsAssumed`. A claim without a slot (a spec worktree) holds no ports. Nothing is dropped.
 */
export async function upgradeV1(
  instances: StoredInstanceV1[],
  assumePorts: AssumePorts | undefined,
): Promise<{ registry: Registry; upgrade: RegistryUpgrade }> {
  const upgrade: RegistryUpgrade = { from: 1, to: REGISTRY_VERSION, read: [], assumed: [] }
  const upgraded: StoredInstance[] = []
  for (const record of instances) {
    if (record.slot === null) {
      upgraded.push({ ...record, ports: {} })
      continue
    }
    const found = await portsFromEnvFile(record)
    if ('ports' in found) {
      upgrade.read.push(record.id)
      upgraded.push({ ...record, ports: found.ports })
    } else {
      upgrade.assumed.push({ id: record.id, slot: record.slot, reason: found.reason })
      upgraded.push({ ...record, ports: assumePorts?.(record.slot) ?? {}, portsAssumed: true })
    }
  }
  return { registry: { version: REGISTRY_VERSION, instances: upgraded }, upgrade }
}

async function portsFromEnvFile(
  record: StoredInstanceV1,
): Promise<{ ports: Record<string, number> } | { reason: string }> {
  const file = join(record.path, '.env.sandbox')
  let values: Record<string, string>
  try {
    values = parseEnvFile(await readFile(file, 'utf8'), file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return { reason: code === 'ENOENT' ? `no ${file}` : `${file} is unreadable` }
  }
  if (values.INSTANCE_ID !== undefined && values.INSTANCE_ID !== record.id) {
    return { reason: `${file} belongs to ${values.INSTANCE_ID}` }
  }
  const ports: Record<string, number> = {}
  for (const [key, value] of Object.entries(values)) {
    if (key === 'SLOT_NUMBER' || !/^\d{1,5}$/.test(value)) continue
    const port = Number(value)
    if (port >= 1 && port <= 65535) ports[key] = port
  }
  if (Object.keys(ports).length === 0) return { reason: `${file} holds no port` }
  return { ports }
}

/** One line per upgrade for the log: what was kept and which claims' ports are assumed. */
export function describeUpgrade(file: string, upgrade: RegistryUpgrade): string[] {
  const total = upgrade.read.length + upgrade.assumed.length
  const lines = [
    `upgraded ${file} from version ${upgrade.from} to ${upgrade.to}: every claim kept; the ports of ${upgrade.read.length} of ${total} claim(s) with a slot read from their .env.sandbox`,
  ]
  for (const assumed of upgrade.assumed) {
    lines.push(
      `claim ${assumed.id}: ports unknown (${assumed.reason}); it now holds slot ${assumed.slot}'s ports in the default layout`,
    )
  }
  return lines
}
