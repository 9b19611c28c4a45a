import type { Plugin } from '@berth/contract'
import { configPlugin } from './config.js'
import { doctorPlugin } from './doctor.js'
import { envPlugin } from './env.js'
import { instancePlugin } from './instance.js'

/** The runner's own plugins: instance detection, .env.sandbox, config and doctor. */
export function corePlugins(): Plugin[] {
  return [instancePlugin(), envPlugin(), configPlugin(), doctorPlugin()]
}

export { detectRepo, excludeFromGit, git } from './git.js'
export { configPlugin, doctorPlugin, envPlugin, instancePlugin }
