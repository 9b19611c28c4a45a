import type { BerthServices, InstanceRecord, RepoInfo, TaskContext } from '@berth/contract'
import { makeTestContext, makeTestInstance, type RecordedLog } from '@berth/contract/testing'
import { composeSection, testSection } from '../../src/schema.js'

export type { RecordedLog }

export interface ContextInput {
  root: string
  project?: string
  instance?: InstanceRecord
  env?: Record<string, string>
  secretEnv?: Record<string, string>
  flags?: Record<string, string | boolean | undefined>
  positionals?: string[]
  compose?: unknown
  services?: BerthServices
  repo?: RepoInfo
  task?: string
  /** `--json`. */
  json?: boolean
}

/** A plain TaskContext for step tests; `logs` records what the step logged. */
export function makeContext(input: ContextInput): TaskContext & { logs: RecordedLog[] } {
  return makeTestContext({
    ...input,
    sections: { compose: input.compose },
    // Parsed by their schemas, defaults filled in, as the runner hands them to steps.
    config: [composeSection, testSection],
    repo: input.repo ?? { root: input.root, checkout: input.root, isWorktree: false },
  })
}

export function makeInstance(id: string, path: string, slot: number | null = 1): InstanceRecord {
  return makeTestInstance(id, path, { slot })
}
