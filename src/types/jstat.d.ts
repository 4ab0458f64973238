// jstat ships no types; these are the two distributions the canary analysis uses (jstat 1.9.6).
declare module 'jstat' {
  export const jStat: {
    /** P(X ≤ x) for X ~ Hypergeometric: N items, m of them successes, n drawn. */
    hypgeom: { cdf(x: number, N: number, m: number, n: number): number; pdf(x: number, N: number, m: number, n: number): number };
    normal: { cdf(x: number, mean: number, sd: number): number };
  };
}
