import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { homeDirectory, isBerthError, UsageError } from '@berth/contract'
import { rootHelp } from './help.js'
import { renderError } from './output.js'
import { locateCommand } from './parse.js'
import { berthVersion } from './version.js'

export { berthVersion }

/**
 * `berth __complete instances`: registered instance ids and the names they were typed as
 * (`genome/M1`), one a line, for shell completion. Reads the registry directly (no lock, no
 * plugins) so a TAB press stays fast; silent on any problem.
 */
function completeWords(args: string[]): number {
  if (args[0] !== 'instances') return 0
  try {
    const home = process.env.BERTH_HOME ?? join(homeDirectory(), '.berth')
    const registry = JSON.parse(readFileSync(join(home, 'registry.json'), 'utf8')) as {
      instances?: { id: string; name?: string }[]
    }
    const words = new Set<string>()
    for (const instance of registry.instances ?? []) {
      words.add(instance.id)
      // Only names a shell word can hold as it is (typed names are letters, digits, ._-/).
      if (instance.name && /^[A-Za-z0-9._/-]+$/.test(instance.name)) words.add(instance.name)
    }
    for (const word of words) process.stdout.write(`${word}\n`)
  } catch {
    // no registry yet: nothing to complete
  }
  return 0
}

/** The runner's entry (execute.ts), loaded only when a command runs. */
export type LoadRunner = () => Promise<{ execute: typeof import('./execute.js').execute }>

/**
 * The CLI entry: returns the exit code; the only place errors become exit codes. `loadRunner`
 * loads the runner: the bin gives its own (the runner's bundle through V8's code cache,
 * bin/code-cache.cjs), so `--help` and `--version` never load it.
 */
export async function main(argv: string[], loadRunner: LoadRunner = () => import('./execute.js')): Promise<number> {
  if (argv.length === 0 || (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help'))) {
    process.stdout.write(rootHelp(berthVersion()))
    return 0
  }
  if (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version') {
    process.stdout.write(`${berthVersion()}\n`)
    return 0
  }
  if (argv[0] === '__complete') return completeWords(argv.slice(1))
  const json = argv.includes('--json')
  let located: ReturnType<typeof locateCommand>
  try {
    located = locateCommand(argv)
  } catch (error) {
    return renderError(isBerthError(error) ? error : new UsageError(String(error)), { json })
  }
  if ('help' in located) {
    process.stdout.write(located.help)
    return 0
  }
  const { execute } = await loadRunner()
  return execute(argv, located.command)
}
