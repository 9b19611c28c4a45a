/** Repositories and configs the scenarios share. */

/**
 * A one-service compose file on the demo base image: a Node process that idles and exits at once
 * on SIGTERM. Ten of these stand in for ten running stacks at a fraction of the demo's cost.
 */
export const LIGHT_COMPOSE = `services:
  app:
    image: berth-demo-base:local
    entrypoint: ["/usr/bin/node", "-e", "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1 << 30)"]
    stop_grace_period: 2s
`

/** `[from, from+1, …, to]`. */
export function range(from, to) {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

/** `berth.config.json` text. */
export function configJson(config) {
  return `${JSON.stringify(config, null, 2)}\n`
}

/** Two-digit folder suffix: `07`. */
export function pad(n) {
  return String(n).padStart(2, '0')
}
