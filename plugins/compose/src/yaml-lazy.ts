import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
let loaded: typeof import('yaml') | undefined

/**
 * The `yaml` package, loaded on first use (lint, service discovery) rather than when berth
 * starts: most commands never read a compose file.
 */
export function yaml(): typeof import('yaml') {
  loaded ??= require('yaml') as typeof import('yaml')
  return loaded
}
