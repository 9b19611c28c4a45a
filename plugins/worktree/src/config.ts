import { homedir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { lazySchema } from '@berth/contract'
import * as z from 'zod'

// A leading '-' would turn a value into a git option; whitespace and '..' are never valid here.
const gitName = lazySchema(() =>
  z
    .string()
    .min(1)
    .refine((value) => !value.startsWith('-'), 'must not start with "-"')
    .refine((value) => !/[\s~^:?*[\\]|\.\.|@\{/.test(value), 'is not a valid git name'),
)

// A path inside the repository: relative, no '..' part, not a git option, nothing git would quote.
const localPath = lazySchema(() =>
  z
    .string()
    .min(1)
    .refine(
      (value) => !isAbsolute(value) && !value.split(/[\\/]/).includes('..'),
      'must be a path inside the repository',
    )
    .refine((value) => !value.startsWith('-'), 'must not start with "-"')
    .refine(
      (value) => ![...value].some((c) => c < ' ' || c === '\u007f' || c === '"' || c === '\\'),
      'must not hold control characters, quotes or backslashes',
    ),
)

/**
 * The `worktree` config section. Users write the lenient form (every key optional); the parsed
 * value has `remote` and `fetch` filled in. `parent` and `baseBranch` stay optional because their
 * defaults depend on the repository (see {@link resolveParent} and `resolveBaseBranch`).
 */
export const worktreeConfigSchema = lazySchema(() =>
  z
    .object({
      /** Folder for new worktrees. Default: the folder containing the main checkout. */
      parent: z.string().min(1).optional(),
      /** Branch new worktrees start from and "merged" is measured against. Default: the remote's default branch. */
      baseBranch: gitName.optional(),
      remote: gitName.default('origin'),
      /** Fetch the remote before creating a worktree. */
      fetch: z.boolean().default(true),
      /**
       * Seconds a fetch stays fresh: `impl` does not fetch again while the last fetch (FETCH_HEAD)
       * is younger, so agents starting features one after another fetch once. 0 (the default)
       * fetches every time.
       */
      fetchMaxAge: z.number().int().min(0).default(0),
      /**
       * Files git ignores that a new worktree would lack (a local `.env` next to a committed
       * `.env.example`): copied from the main checkout when it has them, git ignores them and the
       * new worktree does not have them. Paths relative to the repository root.
       */
      copy: z.array(localPath).default(['.env']),
    })
    .strict()
    .prefault({}),
)

export type WorktreeConfigInput = z.input<typeof worktreeConfigSchema>
export type WorktreeConfig = z.output<typeof worktreeConfigSchema>

/** The defaults, for code that runs without a parsed section. */
export function defaultWorktreeConfig(): WorktreeConfig {
  return worktreeConfigSchema.parse(undefined)
}

/**
 * The absolute folder new worktrees go into: `parent` resolved against the config root
 * (`~/` expands to the home folder), or the folder containing the main checkout.
 */
export function resolveParent(parent: string | undefined, configRoot: string, repoRoot: string): string {
  if (parent === undefined) return dirname(resolve(repoRoot))
  if (parent === '~') return homedir()
  if (parent.startsWith('~/')) return join(homedir(), parent.slice(2))
  return isAbsolute(parent) ? resolve(parent) : resolve(configRoot, parent)
}
