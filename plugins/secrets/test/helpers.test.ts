import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { cleanup, filesContaining, isAlive, processesWithArgv, tempDir } from './helpers.js'

after(cleanup)

// The leak checks of the other tests pass when they find nothing: prove they can find something.
describe('leak detectors', () => {
  it('see a value in the argv of a running process, and stop seeing the process once it is gone', async () => {
    const needle = `needle-${Math.random().toString(36).slice(2)}`
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)', needle], { stdio: 'ignore' })
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(processesWithArgv(needle).length, 1)
    assert.equal(isAlive(child.pid ?? 0), true)
    child.kill('SIGKILL')
    await new Promise((resolve) => child.on('close', resolve))
    assert.deepEqual(processesWithArgv(needle), [])
    assert.equal(isAlive(child.pid ?? 0), false)
  })

  it('see a value in a file of a directory tree', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'a.txt'), 'x needle-in-file y')
    assert.deepEqual(filesContaining(dir, 'needle-in-file'), [join(dir, 'a.txt')])
  })
})
