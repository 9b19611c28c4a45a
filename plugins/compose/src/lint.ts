import { readFileSync } from 'node:fs'
import { isAbsolute, relative } from 'node:path'
import { addProblem, type LintOptions, type LintReport } from './lint-report.js'
import { ComposeWalker } from './lint-walker.js'
import { yaml } from './yaml-lazy.js'

/**
 * Checks compose files for what breaks running several instances side by side: fixed container
 * names, literal host ports, shared (external or fixed-name) volumes and networks, bind mounts of
 * `/` or the home directory (errors), and ports published on every interface or host networking
 * (warnings). Each problem names the file, line and service.
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
    const found = lintComposeText(text, shown, options)
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
