/**
 * A probe's failure that says more than its message: `permanent` when waiting cannot fix it (a
 * refused password, a missing database) — the check then fails once the same answer has held for
 * `POLL.permanentAfterMs`, instead of polling until the deadline — and a `hint` for the human
 * (what to do about it), carried into the check's result.
 */
export class ProbeError extends Error {
  override name = 'ProbeError'
  readonly permanent: boolean
  readonly hint: string | undefined

  constructor(message: string, options: { permanent?: boolean; hint?: string | undefined } = {}) {
    super(message)
    this.permanent = options.permanent ?? false
    this.hint = options.hint
  }
}
