/**
 * `node --import bench/lib/module-log.mjs …` (used by bench/profile.mjs): every module URL Node
 * loads is appended to `<tmpdir>/berth-bench-modules-<pid>.txt`.
 */
import { register } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const moduleLogFile = (pid) => join(tmpdir(), `berth-bench-modules-${pid}.txt`)

register('./module-hooks.mjs', import.meta.url, { data: { file: moduleLogFile(process.pid) } })
