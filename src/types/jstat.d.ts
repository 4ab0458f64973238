// jstat ships no types; these are the distributions the canary analysis and the learning evaluation use (jstat 1.9.6).
declare module 'jstat' {
  export const jStat: {
    /** P(X ≤ x) for X ~ Hypergeometric: N items, m of them successes, n drawn. */
    hypgeom: { cdf(x: number, N: number, m: number, n: number): number; pdf(x: number, N: number, m: number, n: number): number };
    normal: { cdf(x: number, mean: number, sd: number): number };
    /** Student's t: the inverse CDF, for confidence intervals of a mean. */
    studentt: { inv(p: number, dof: number): number };
  };
}
