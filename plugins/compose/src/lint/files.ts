import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, relative } from 'node:path'
import { yaml } from '../yaml-lazy.js'
import { addProblem, type LintOptions, type LintReport } from './report.js'
import { ComposeWalker } from './walker.js'

/**
 * Checks compose files, as compose will resolve them, for what breaks running several instances
 * side by side or exposes the host. Errors: fixed container names, host ports and volume/network
 * names that are the same in every instance (literal, or `${VAR:-default}` with VAR not
 * per-instance), external volumes/networks, ports published on all interfaces, bind mounts of
 * the host's `/`, the Docker socket, `/etc`, home folders and their dot folders. Warnings: host
 * networking, host namespaces (`pid`/`ipc`/`uts: host`), `privileged`, `cap_add`. Each problem
 * names the file, line and service; the config's allow-lists exempt by name.
 */
export function lintComposeFiles(files: string[], options: LintOptions = {}): LintReport {
  const report: LintReport = { errors: [], warnings: [] }
  for (const file of files) {
    const shown = displayPath(file, options.cwd)
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error)
      addProblem(report.errors, {
        file: shown,
        line: 0,
        column: 0,
        subject: '',
        rule: 'unreadable-file',
        message: `cannot read the compose file (${reason})`,
      })
      continue
    }
    // Relative bind sources start at the project folder: the first file's folder, as compose does.
    const found = lintComposeText(text, shown, { projectDir: dirname(files[0] ?? file), ...options })
    report.errors.push(...found.errors)
    report.warnings.push(...found.warnings)
  }
  return report
}

/** {@link lintComposeFiles} for one file's text; `file` is only used in messages. */
export function lintComposeText(text: string, file: string, options: LintOptions = {}): LintReport {
  const report: LintReport = { errors: [], warnings: [] }
  const { LineCounter, parseDocument } = yaml()
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: false })
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const pos = error.linePos?.[0] ?? { line: 0, col: 0 }
      const message = `invalid YAML: ${error.message.split('\n')[0]}`
      addProblem(report.errors, { file, line: pos.line, column: pos.col, subject: '', rule: 'yaml-syntax', message })
    }
    return report
  }
  new ComposeWalker(doc, lineCounter, file, options, report).walk()
  return report
}

function displayPath(file: string, cwd: string | undefined): string {
  if (!cwd) return file
  const shown = relative(cwd, file)
  return shown === '' || shown.startsWith('..') || isAbsolute(shown) ? file : shown
}
