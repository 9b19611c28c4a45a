import { lstatSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { ConflictError, instanceIdFor, NAME_PATTERN, slugify, UsageError, validateName } from '@berth/contract'

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
  /** Instance id: the slug of the folder name (`acme-impl-x`). */
  id: string
  /** The validated, slugged feature name. */
  name: string
  kind: WorktreeKind
  project: string
  /** `<parent>/<project>-<kind>-<name>`. */
  path: string
  /** `<kind>/<name>`. */
  branch: string
  parent: string
}

/**
 * Validates the name (UsageError, exit 2) and computes path, branch and id. Refuses with
 * ConflictError (exit 3) when the folder already exists. Nothing is created.
 */
export function planWorktree(request: PlanRequest): WorktreePlan {
  const name = validateName(request.name, `${request.kind} name`)
  // A ref component may not end in '.' or '.lock' (git check-ref-format); the pattern allows both.
  if (name.endsWith('.') || name.endsWith('.lock')) {
    throw new UsageError(`${request.kind} name ${JSON.stringify(request.name)} cannot be a git branch name`, {
      hint: "don't end the name with '.' or '.lock'",
    })
  }
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
    kind: request.kind,
    project,
    path,
    branch: `${request.kind}/${name}`,
    parent,
  }
  if (pathTaken(path)) {
    throw new ConflictError(`${path} already exists`, {
      code: 'E_PATH_EXISTS',
      hint: `pick another name, or run \`berth done ${name}\` if it is a berth ${request.kind} you no longer need`,
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
