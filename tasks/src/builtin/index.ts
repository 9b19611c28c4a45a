import type { Plugin } from '@berth/contract'
import { completionPlugin } from './completion.js'
import { configPlugin } from './config.js'
import { doctorPlugin } from './doctor.js'
import { envPlugin } from './env.js'
import { hostServicesPlugin } from './host-services.js'
import { instancePlugin } from './instance.js'
import { mcpPlugin } from './mcp.js'
import { profilesPlugin } from './profiles.js'
import { setupPlugin } from './setup.js'

/** The runner's own plugins: instance detection, .env.sandbox, config and doctor. */
export function corePlugins(): Plugin[] {
  return [
    instancePlugin(),
    envPlugin(),
    configPlugin(),
    doctorPlugin(),
    setupPlugin(),
    completionPlugin(),
    mcpPlugin(),
    profilesPlugin(),
    hostServicesPlugin(),
  ]
}

export {
  completionPlugin,
  configPlugin,
  doctorPlugin,
  envPlugin,
  hostServicesPlugin,
  instancePlugin,
  mcpPlugin,
  profilesPlugin,
  setupPlugin,
}
