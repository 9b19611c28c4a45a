/** Raised when one probe exceeds its own time limit (the gate goes on polling). */
export class AttemptTimeout extends Error {
  override name = 'AttemptTimeout'
}

/**
 * Runs one probe with its own time limit. The probe sees a signal that fires on either the time
 * limit or `parent` (the gate's abort); an abort of `parent` is rethrown as `parent.reason`.
 */
export async function withAttemptLimit<T>(
  parent: AbortSignal,
  limitMs: number,
  timeoutMessage: string,
  probe: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  parent.throwIfAborted()
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new AttemptTimeout(timeoutMessage)), limitMs)
  const forward = (): void => controller.abort(parent.reason)
  parent.addEventListener('abort', forward, { once: true })
  try {
    return await probe(controller.signal)
  } catch (error) {
    if (parent.aborted) throw parent.reason
    if (controller.signal.aborted) throw controller.signal.reason
    throw error
  } finally {
    clearTimeout(timer)
    parent.removeEventListener('abort', forward)
  }
}

/** A one-line reason from whatever a probe threw (Node system errors, undici errors, AggregateError). */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(describeError))].join(' / ')
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    if (error.message) return error.message
    return typeof code === 'string' ? code : error.name
  }
  return String(error)
}
