import { lstatSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { ConflictError, instanceIdFor, NAME_PATTERN, parseFeatureName, slugify, UsageError } from '@berth/contract'

/** The two kinds of checkout berth creates. */
export type WorktreeKind = 'spec' | 'impl'

export interface PlanRequest {
  /** The feature name as the user typed it. */
  name: string
  kind: WorktreeKind
  /** Project name (`ctx.config.project`); slugged for the folder name. */
  project: string
  /** Absolute folder the worktree goes into. */
  parent: string
}

/** Where a new worktree goes and what it is called. Computing it changes nothing. */
export interface WorktreePlan {
  /** Instance id: the slug of the folder name (`acme-impl-genome-m1`). */
  id: string
  /** The validated, slugged feature name (`genome-m1`). */
  name: string
  /** The feature name as the user typed it (`genome/M1`). */
  typed: string
  kind: WorktreeKind
  project: string
  /** `<parent>/<project>-<kind>-<name>`: lower case, so case-insensitive file systems agree. */
  path: string
  /** `<kind>/<typed name, '/' -> '-', case kept>`: `impl/genome-M1`, the original tool's form. */
  branch: string
  parent: string
}

/**
 * Validates the name (UsageError, exit 2) and computes path, branch and id. Refuses with
 * ConflictError (exit 3) when the folder already exists. Nothing is created.
 */
export function planWorktree(request: PlanRequest): WorktreePlan {
  const feature = parseFeatureName(request.name, `${request.kind} name`)
  const name = feature.slug
  const project = slugify(request.project)
  if (!NAME_PATTERN.test(project) || project.includes('..')) {
    throw new UsageError(`project name ${JSON.stringify(request.project)} cannot be used in a folder name`, {
      hint: 'set `project` in the berth config to lower-case letters, digits, ".", "_" and "-"',
    })
  }
  const parent = resolve(request.parent)
  const folder = `${project}-${request.kind}-${name}`
  const path = join(parent, folder)
  const plan: WorktreePlan = {
    id: instanceIdFor(basename(path)),
    name,
    typed: feature.typed,
    kind: request.kind,
    project,
    path,
    branch: `${request.kind}/${feature.branch}`,
    parent,
  }
  if (pathTaken(path)) {
    throw new ConflictError(`${path} already exists`, {
      code: 'E_PATH_EXISTS',
      hint: `pick another name, or run \`berth done ${feature.typed}\` if it is a berth ${request.kind} you no longer need`,
      details: { path },
    })
  }
  return plan
}

/** True when anything (file, folder, even a dangling symlink) sits at `path`. */
export function pathTaken(path: string): boolean {
  try {
    lstatSync(path)
    return true
  } catch {
    return false
  }
}
