import { flag, lazySchema } from '@berth/contract'
import * as z from 'zod'

/** `--timeout S`: a positive number of seconds, checked before any step runs. */
export const timeoutSecondsSchema = lazySchema(() =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'must be a positive number of seconds, e.g. --timeout 60')
    .transform(Number)
    .refine((seconds) => seconds > 0, 'must be a positive number of seconds, e.g. --timeout 60'),
)

export const timeoutFlag = flag.parsed(
  timeoutSecondsSchema,
  'gate deadline in seconds (default: config gate.timeout, 120)',
  {
    value: 'S',
  },
)

/** `--timeout` (already parsed to seconds) over the config's timeout, in ms. */
export function resolveTimeoutMs(seconds: number | undefined, configSeconds: number): number {
  return Math.round((seconds ?? configSeconds) * 1000)
}
