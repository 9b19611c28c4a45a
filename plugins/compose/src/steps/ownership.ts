import { dirname, relative, sep } from 'node:path'
import { ConflictError, type EngineContainer, type InstanceRecord } from '@berth/contract'
import { engineRequest } from '@berth/engine'
import { PROJECT_LABEL } from '../engine.js'
import { composeProjectName } from '../project.js'

/** The folder compose ran in, on every container it creates (v1 and v2). */
export const WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir'

/**
 * The folders other checkouts ran the compose project `project` from: the `working_dir` label of
 * its containers, where that is neither inside the instance's checkout nor a folder of its compose
 * files. A container without the label proves nothing and is taken as the instance's own.
 */
export async function foreignWorkingDirs(instance: InstanceRecord, files: string[]): Promise<string[]> {
  const project = composeProjectName(instance.id)
  const filter = encodeURIComponent(JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] }))
  const containers = await engineRequest<EngineContainer[]>(`/containers/json?all=1&filters=${filter}`)
  const own = new Set(files.map((file) => dirname(file)))
  const foreign = new Set<string>()
  for (const container of containers) {
    const dir = container.Labels[WORKING_DIR_LABEL]
    if (!dir || own.has(dir) || dir === instance.path || isInside(instance.path, dir)) continue
    foreign.add(dir)
  }
  return [...foreign].sort()
}

/**
 * Compose project names are global on a Docker engine. Before berth starts, stops or removes an
 * instance's project it makes sure the containers of that name were made from this instance's
 * checkout: another repository whose folder has the same name (`~/a/api`, `~/b/api`), registered
 * under another BERTH_HOME or run by hand, is never touched. Exit 3 naming the other checkout.
 */
export async function assertOwnsProject(instance: InstanceRecord, files: string[], action: string): Promise<void> {
  const foreign = await foreignWorkingDirs(instance, files)
  if (foreign.length === 0) return
  const project = composeProjectName(instance.id)
  throw new ConflictError(
    `compose project ${project} on this Docker engine belongs to another checkout: its containers were made in ${foreign.join(', ')}, not in ${instance.path}; berth will not ${action} it`,
    {
      code: 'E_PROJECT_FOREIGN',
      hint: `compose project names are engine-wide: give this repository its own "project" in its berth config (or pick another feature name), or remove that stack where it was made (berth done / docker-compose -p ${project} down there)`,
      details: { project, workingDirs: foreign, path: instance.path },
    },
  )
}

function isInside(folder: string, child: string): boolean {
  const rel = relative(folder, child)
  return rel.length > 0 && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep)
}
