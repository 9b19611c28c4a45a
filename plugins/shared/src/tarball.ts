import { execFile } from 'node:child_process'
import { EnvironmentError, OperationError } from '@berth/contract'

/** How the named folders sit inside an archive. */
export interface TarballLayout {
  /** Member prefix before the folder names: `''`, `./`, `src/`, `./src/`. */
  prefix: string
  /** Path components to strip so `<prefix><name>/…` lands as `<name>/…`. */
  strip: number
  /** Named folders the archive holds. */
  present: string[]
  /** Top-level entries (below the prefix) that are not named folders: left out. */
  ignored: string[]
}

function tar(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tar', args, { maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout)
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(
          new EnvironmentError('tar is not installed', { hint: 'install tar (GNU tar reads .tar, .tar.gz, .tar.xz…)' }),
        )
      }
      reject(new OperationError(`tar ${args[0]} failed: ${stderr.trim() || error.message}`, { code: 'E_TAR' }))
    })
  })
}

/** The member names of an archive (`tar -tf`; compression is detected by tar). */
export async function listTarball(file: string): Promise<string[]> {
  return (await tar(['-tf', file])).split('\n').filter((line) => line !== '')
}

/**
 * Where `names` sit among `members`: at the top (`data/…`, `./data/…`) or inside one wrapping
 * folder (`shared/data/…`), which is then stripped.
 */
export function tarballLayout(members: string[], names: string[]): TarballLayout {
  const dot = members.length > 0 && members.every((m) => m === './' || m.startsWith('./'))
  const base = dot ? './' : ''
  const below = (prefix: string) => [
    ...new Set(
      members
        .filter((m) => m.startsWith(prefix) && m.length > prefix.length)
        .map((m) => m.slice(prefix.length).split('/')[0]!)
        .filter((first) => first !== '' && first !== '.'),
    ),
  ]
  let prefix = base
  let top = below(prefix)
  if (!top.some((entry) => names.includes(entry)) && top.length === 1) {
    const wrapped = `${base}${top[0]}/`
    if (below(wrapped).some((entry) => names.includes(entry))) {
      prefix = wrapped
      top = below(prefix)
    }
  }
  return {
    prefix,
    strip: prefix.split('/').filter((part) => part !== '').length,
    present: names.filter((name) => top.includes(name)),
    ignored: top.filter((entry) => !names.includes(entry)).sort(),
  }
}

/**
 * Extracts only `<prefix><name>` of each present name into `root` (so only `root/<name>` is
 * written), without the archive's owners. GNU tar refuses members with `..` and strips leading `/`.
 */
export async function extractTarball(file: string, root: string, layout: TarballLayout): Promise<void> {
  if (layout.present.length === 0) return
  await tar([
    '-xf',
    file,
    '-C',
    root,
    '--no-same-owner',
    `--strip-components=${layout.strip}`,
    '--',
    ...layout.present.map((name) => `${layout.prefix}${name}`),
  ])
}
