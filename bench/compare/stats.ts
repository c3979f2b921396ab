/** Summaries the harness reports: median [min, max] of runs, percentiles of samples. */

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)! };
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

export function formatNumber(x: number): string {
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  if (x >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

export function formatSpread(s: Spread): string {
  return `${formatNumber(s.median)} [${formatNumber(s.min)}, ${formatNumber(s.max)}]`;
}
