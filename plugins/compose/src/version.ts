/** Matches `version` in package.json (a test keeps them equal). */
export const COMPOSE_PLUGIN_VERSION = '0.1.0'
