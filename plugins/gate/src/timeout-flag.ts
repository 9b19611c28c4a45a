import { UsageError } from '@berth/contract'

/** `--timeout S` (seconds, as the CLI passes it: a string) over the config's timeout, in ms. */
export function resolveTimeoutMs(flag: string | boolean | undefined, configSeconds: number): number {
  if (flag === undefined || flag === false) return Math.round(configSeconds * 1000)
  const text = flag === true ? '' : flag.trim()
  const seconds = Number(text)
  if (text === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(
      `--timeout must be a positive number of seconds, got ${flag === true ? 'no value' : `"${flag}"`}`,
      {
        hint: 'For example --timeout 60.',
      },
    )
  }
  return Math.round(seconds * 1000)
}
