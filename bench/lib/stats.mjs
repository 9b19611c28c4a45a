/** Summaries of timing samples (milliseconds). */

/** The q-quantile (0..1) of sorted values, interpolating between neighbours. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  const high = Math.ceil(at)
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low)
}

/** `{ n, median, min, max, mean, p90 }` of the samples, rounded to 0.1 ms. */
export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  const round = (value) => Math.round(value * 10) / 10
  const mean = sorted.reduce((sum, value) => sum + value, 0) / (sorted.length || 1)
  return {
    n: sorted.length,
    median: round(quantile(sorted, 0.5)),
    min: round(sorted[0] ?? Number.NaN),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
    mean: round(mean),
    p90: round(quantile(sorted, 0.9)),
  }
}

/** berth's median over the baseline's, to two decimals. */
export function ratio(berth, baseline) {
  return Math.round((berth.median / baseline.median) * 100) / 100
}

/**
 * Runs every variant `warmup` times (discarded), then `runs` times, interleaved (A B A B …, the
 * order rotated each round) so that background load drifts over all variants alike. A variant's
 * `measure(round)` resolves to a duration in ms, or to `{ ms, ...extra }` whose extras are kept.
 *
 * @param {{ warmup: number, runs: number, variants: { key: string, measure: (round: number) => Promise<number | { ms: number }> }[], onRound?: (round: number) => Promise<void> | void }} plan
 * @returns {Promise<Record<string, { samples: number[], extras: object[] }>>}
 */
export async function interleave(plan) {
  const out = Object.fromEntries(plan.variants.map((v) => [v.key, { samples: [], extras: [] }]))
  const total = plan.warmup + plan.runs
  for (let round = 0; round < total; round++) {
    const order = plan.variants.map((_, i) => plan.variants[(i + round) % plan.variants.length])
    for (const variant of order) {
      const value = await variant.measure(round - plan.warmup)
      if (round < plan.warmup) continue
      const ms = typeof value === 'number' ? value : value.ms
      out[variant.key].samples.push(ms)
      if (typeof value === 'object') out[variant.key].extras.push(value)
    }
    await plan.onRound?.(round - plan.warmup)
  }
  return out
}
