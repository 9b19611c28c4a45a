/** The shapes every scenario returns: side-by-side rows, targets and notes. */
import { ratio, summarize } from './stats.mjs'

const round1 = (value) => Math.round(value * 10) / 10

/** Mean CPU time of a series (ms), or undefined when it was not measured. */
function cpuMean(cpu) {
  if (!cpu || cpu.length === 0 || cpu.some((v) => !Number.isFinite(v))) return undefined
  return round1(cpu.reduce((sum, v) => sum + v, 0) / cpu.length)
}

function side(input) {
  const cpu = cpuMean(input.cpu)
  return {
    label: input.label,
    ...summarize(input.samples),
    ...(cpu === undefined ? {} : { cpuMeanMs: cpu }),
    samples: input.samples.map(round1),
  }
}

/**
 * One line of the results table: berth beside its raw baseline. `cpu` (optional) holds each
 * sample's CPU time (user + system of the measured process), summarised as a mean.
 * @param {{ name: string, berth: { label: string, samples: number[], cpu?: number[] }, baseline: { label: string, samples: number[], cpu?: number[] }, note?: string }} input
 */
export function pairRow(input) {
  const berth = side(input.berth)
  const baseline = side(input.baseline)
  return {
    name: input.name,
    berth,
    baseline,
    ratio: ratio(berth, baseline),
    deltaMs: round1(berth.median - baseline.median),
    ...(input.note ? { note: input.note } : {}),
  }
}

/**
 * A target of the issue, checked against a measured value.
 * @param {{ id: string, text: string, value: number, limit: number, unit: 'x' | 'ms' | 'count', detail?: string }} input
 */
export function target(input) {
  const value = input.unit === 'x' ? Math.round(input.value * 100) / 100 : round1(input.value)
  return { ...input, value, met: input.value <= input.limit }
}
