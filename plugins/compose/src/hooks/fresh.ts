import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { UsageError } from '@berth/contract'
import { engineRequest } from '@berth/engine'
import { PROJECT_LABEL } from '../engine.js'

const VOLUME_LABEL = 'com.docker.compose.volume'

/**
 * The engine name of compose volume `key` in `project` (found by labels, as both compose flavours
 * label their volumes). Throws a usage error naming the project's volumes when there is none.
 */
export async function findProjectVolume(project: string, key: string, hook: string): Promise<string> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] }))
  const answer = await engineRequest<{ Volumes: { Name: string; Labels: Record<string, string> | null }[] | null }>(
    `/volumes?filters=${filters}`,
  )
  const volumes = answer.Volumes ?? []
  const found = volumes.find((volume) => volume.Labels?.[VOLUME_LABEL] === key)
  if (!found) {
    const known = volumes.map((volume) => volume.Labels?.[VOLUME_LABEL] ?? volume.Name)
    throw new UsageError(`hook ${hook}: compose project ${project} has no volume "${key}"`, {
      code: 'E_HOOK_CONFIG',
      hint: `name one of its volumes (the keys under volumes: in the compose file${known.length > 0 ? `: ${known.sort().join(', ')}` : ''})`,
    })
  }
  return found.Name
}

/**
 * Where each `fresh-volume` hook stands: `<instance>/.sandbox/hooks.json`. A volume is fresh when
 * this very `up` created it (it was not there before `compose up`: a first start, or one after
 * `down --volumes`); the hook is then marked `pending` for that volume before it runs and `done`
 * after it passed. A volume that was already there is fresh only while its hook is still
 * `pending` (the run that created it failed or was interrupted before the hook passed).
 * The engine keeps no stable identity of a volume (its `CreatedAt` moves when the folder's
 * metadata changes), hence this record. It holds names only, never a secret.
 */
export interface HookState {
  version: 2
  fresh: Record<string, { volume: string; state: 'pending' | 'done'; at: string }>
}

export function hookStateFile(instancePath: string): string {
  return join(instancePath, '.sandbox', 'hooks.json')
}

export async function readHookState(file: string): Promise<HookState> {
  if (!existsSync(file)) return { version: 2, fresh: {} }
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<HookState>
    if (parsed.version === 2 && parsed.fresh && typeof parsed.fresh === 'object') return parsed as HookState
  } catch {
    // unreadable: no record (a volume this up created is fresh anyway)
  }
  return { version: 2, fresh: {} }
}

/** Whether `hook` must run for `volume`; `createdNow`: the volume did not exist before this `up`. */
export function isFresh(state: HookState, hook: string, volume: string, createdNow: boolean): boolean {
  if (createdNow) return true
  const record = state.fresh[hook]
  return record?.volume === volume && record.state === 'pending'
}

/** Records where `hook` stands for `volume` (written atomically). */
export async function recordHook(file: string, hook: string, volume: string, state: 'pending' | 'done'): Promise<void> {
  const current = await readHookState(file)
  current.fresh[hook] = { volume, state, at: new Date().toISOString() }
  await mkdir(dirname(file), { recursive: true })
  const temp = `${file}.${process.pid}.tmp`
  await writeFile(temp, `${JSON.stringify(current, null, 2)}\n`, { mode: 0o644 })
  await rename(temp, file)
}
