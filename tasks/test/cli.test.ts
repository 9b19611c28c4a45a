import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { UsageError } from '@berth/contract'
import { berthVersion } from '../src/cli.js'
import { locateCommand, parseInvocation as parseFor } from '../src/parse.js'

/** Both phases of the CLI's parse, as execute runs them (no step flags here). */
function parseInvocation(argv: string[]) {
  const located = locateCommand(argv)
  return 'help' in located ? located : parseFor(argv, located.command)
}

function usageError(argv: string[]): UsageError {
  try {
    parseInvocation(argv)
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${error}`)
    assert.equal(error.exitCode, 2)
    assert.ok(error.hint, 'a usage error says what to run instead')
    return error
  }
  assert.fail(`expected ${argv.join(' ')} to be refused`)
}

describe('parseInvocation', () => {
  test('finds the command and its flags, skipping the values of global string options', () => {
    const invocation = parseInvocation(['--cwd', 'sandbox', 'sandbox', 'init', '--slot', '3', '--json'])
    assert.ok('command' in invocation)
    assert.deepEqual(invocation.command.path, ['sandbox', 'init'])
    assert.equal(invocation.flags.slot, '3')
    assert.equal(invocation.flags.cwd, 'sandbox')
    assert.equal(invocation.flags.json, true)
    assert.deepEqual(invocation.positionals, [])
  })

  test('takes a positional argument after the command words', () => {
    const invocation = parseInvocation(['sandbox', 'release', '2'])
    assert.ok('command' in invocation)
    assert.deepEqual(invocation.positionals, ['2'])
  })

  test('refuses an unknown command, pointing at --help', () => {
    assert.match(usageError(['bogus']).message, /unknown command 'bogus'/)
    assert.match(usageError(['bogus']).hint ?? '', /berth --help/)
  })

  test("refuses an unknown flag, pointing at the command's help", () => {
    const error = usageError(['sandbox', 'init', '--bogus'])
    assert.match(error.message, /--bogus/)
    assert.match(error.hint ?? '', /berth sandbox init --help/)
  })

  test('refuses a missing or an extra positional argument', () => {
    assert.match(usageError(['sandbox', 'release']).message, /missing <slot>/)
    assert.match(usageError(['sandbox', 'release', '1', '2']).message, /unexpected argument '2'/)
  })

  test('answers help for a command group and for --help on a command', () => {
    const group = parseInvocation(['sandbox'])
    assert.ok('help' in group && group.help.includes('sandbox init'))
    const command = parseInvocation(['url', '--help'])
    assert.ok('help' in command && command.help.includes('--port'))
  })
})

test('berthVersion is the version in package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.equal(berthVersion(), pkg.version)
})
