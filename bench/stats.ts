/** Order statistics the benchmarks share. */

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/**
 * The median of per-round ratios with its 95 % interval from order statistics (distribution-free:
 * a round that a collection or a neighbour's burst slowed moves it by one rank, not by its size).
 */
export function interval(values: readonly number[]): { median: number; low: number; high: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const reach = Math.ceil(0.98 * Math.sqrt(n));
  const mid = Math.floor(n / 2);
  return { median: sorted[mid]!, low: sorted[Math.max(0, mid - reach)]!, high: sorted[Math.min(n - 1, mid + reach)]! };
}
