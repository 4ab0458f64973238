/**
 * Estimates a quantile from cumulative histogram buckets the way Prometheus'
 * `histogram_quantile` does (linear interpolation inside the bucket that holds
 * the rank; the lowest bucket starts at 0; a rank in the +Inf bucket answers
 * the highest finite edge), so the health verdict and the generated alert rules
 * agree on the same data.
 *
 * Returns null when the histogram holds no observations.
 */
export function histogramQuantile(
  quantile: number,
  buckets: ReadonlyArray<{ readonly le: number; readonly count: number }>,
): number | null {
  if (!(quantile >= 0 && quantile <= 1)) throw new RangeError(`quantile ${quantile} is outside [0, 1]`);
  const last = buckets[buckets.length - 1];
  if (last === undefined || last.le !== Infinity) throw new RangeError('histogram buckets must end with +Inf');
  const total = last.count;
  if (!(total > 0)) return null;
  const rank = quantile * total;
  let previousEdge = 0;
  let previousCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return previousEdge;
      const inBucket = bucket.count - previousCount;
      if (inBucket <= 0) return bucket.le;
      // Prometheus' own arithmetic, operation for operation, so both give the same float.
      return previousEdge + (bucket.le - previousEdge) * ((rank - previousCount) / inBucket);
    }
    previousEdge = bucket.le;
    previousCount = bucket.count;
  }
  return previousEdge;
}
