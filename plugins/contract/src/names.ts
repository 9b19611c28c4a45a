import { UsageError } from './errors.js'

/** The shape every instance and feature name has after slugging. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/

/**
 * Lower-cases and replaces runs of characters outside `[a-z0-9._-]` with `-`.
 * Never produces `/`; `..` survives so that {@link validateName} can refuse it explicitly.
 */
export function slugify(input: string): string {
  return input
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
}

/**
 * Checks a user-supplied name before anything is created from it. Refuses (exit 2) what slugging
 * would silently mangle into something else: path separators, `..`, whitespace, control
 * characters, empty strings, and anything still outside {@link NAME_PATTERN} afterwards.
 */
export function validateName(input: string, what = 'name'): string {
  const shown = JSON.stringify(input.length > 80 ? `${input.slice(0, 80)}…` : input)
  const fix = `use lower-case letters, digits, '.', '_' and '-' (1-63 characters), e.g. my-feature`
  if (input.length === 0) throw new UsageError(`${what} is empty`, { hint: fix })
  if (input.includes('/') || input.includes('\\'))
    throw new UsageError(`${what} ${shown} contains a path separator`, { hint: fix })
  if (input.includes('..')) throw new UsageError(`${what} ${shown} contains '..'`, { hint: fix })
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\s\u0000-\u001f\u007f]/.test(input))
    throw new UsageError(`${what} ${shown} contains whitespace or control characters`, { hint: fix })
  if (/[^A-Za-z0-9._-]/.test(input)) {
    throw new UsageError(`${what} ${shown} contains characters other than letters, digits, '.', '_' and '-'`, {
      hint: fix,
    })
  }
  const slug = slugify(input)
  if (!NAME_PATTERN.test(slug)) throw new UsageError(`${what} ${shown} is not a valid name`, { hint: fix })
  return slug
}

/**
 * The instance id for a folder or name: its slug with `.` turned into `-`, because compose
 * project names (= instance ids) allow only `[a-z0-9_-]` (v1 silently drops dots, v2 refuses them).
 */
export function instanceIdFor(name: string): string {
  return slugify(name).replace(/\./g, '-')
}

/** A feature name as typed (`genome/M1`, `MyFeature`) and the forms berth makes of it. */
export interface FeatureName {
  /** Exactly as typed: `genome/M1`. Recorded with the instance and accepted by `done`. */
  typed: string
  /** Lower case, `/` -> `-`: the folder and instance-id part (`genome-m1`). Matches {@link NAME_PATTERN}. */
  slug: string
  /** Case kept, `/` -> `-`: the branch part after `impl/` or `spec/` (`genome-M1`). */
  branch: string
}

/**
 * Validates a feature name as users type it and makes its forms. Accepted: letters of either
 * case, digits, `.`, `_`, `-`, and `/` between parts (the original tool's `<feature>/<milestone>`,
 * e.g. `genome/M1`). Each part starts with a letter or digit and does not end in `.` or `.lock`
 * (git refuses such branches). Refused with exit 2, before anything is created: anything else —
 * `..`, `\`, whitespace, control characters, a leading, trailing or doubled `/` — and a name
 * whose slug would be longer than 63 characters.
 */
export function parseFeatureName(input: string, what = 'name'): FeatureName {
  const shown = JSON.stringify(input.length > 80 ? `${input.slice(0, 80)}…` : input)
  const fix = `use letters, digits, '.', '_' and '-', with '/' between parts (e.g. my-feature or genome/M1)`
  if (input.length === 0) throw new UsageError(`${what} is empty`, { hint: fix })
  if (input.includes('..')) throw new UsageError(`${what} ${shown} contains '..'`, { hint: fix })
  if (input.includes('\\')) throw new UsageError(`${what} ${shown} contains a backslash`, { hint: fix })
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\s\u0000-\u001f\u007f]/.test(input))
    throw new UsageError(`${what} ${shown} contains whitespace or control characters`, { hint: fix })
  if (/[^A-Za-z0-9._/-]/.test(input)) {
    throw new UsageError(`${what} ${shown} contains characters other than letters, digits, '.', '_', '-' and '/'`, {
      hint: fix,
    })
  }
  const parts = input.split('/')
  if (parts.some((part) => part === '')) {
    throw new UsageError(`${what} ${shown} starts or ends with '/' or has an empty part between two '/'`, {
      hint: fix,
    })
  }
  for (const part of parts) {
    if (!/^[A-Za-z0-9]/.test(part))
      throw new UsageError(`${what} ${shown}: the part ${JSON.stringify(part)} must start with a letter or digit`, {
        hint: fix,
      })
    if (part.endsWith('.') || part.endsWith('.lock'))
      throw new UsageError(`${what} ${shown} cannot be a git branch name`, {
        hint: "don't end a name (or a part between '/') with '.' or '.lock'",
      })
  }
  const branch = parts.join('-')
  const slug = branch.toLowerCase()
  if (!NAME_PATTERN.test(slug)) {
    throw new UsageError(`${what} ${shown} is too long (at most 63 characters once '/' become '-')`, { hint: fix })
  }
  return { typed: input, slug, branch }
}

/**
 * The compose project name of an instance. Both compose flavours accept only `[a-z0-9_-]`
 * (v1 silently drops other characters, v2 refuses them), so berth normalises the instance id
 * the same way v1 does and always passes the result with `-p`; labels then match exactly.
 */
export function composeProjectName(instanceId: string): string {
  return instanceId.toLowerCase().replace(/[^a-z0-9_-]/g, '')
}
