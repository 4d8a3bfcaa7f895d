// Figures of a benchmark: every one is the median of its repetitions, with the
// smallest and largest beside it; latencies are percentiles of one run's samples.

export interface Figure {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function figure(samples: number[]): Figure {
  if (samples.length === 0) return { median: NaN, min: NaN, max: NaN, samples };
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, samples };
}

/** The p-th percentile (0–100) by nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Per-repetition ratios of paired runs (ours_i / baseline_i), summarised like any figure. */
export function ratios(ours: number[], baseline: number[]): Figure {
  return figure(ours.map((o, i) => o / baseline[i]!));
}

export const round = (n: number, digits = 2) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);
