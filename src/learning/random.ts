/**
 * A seeded pseudo-random generator (mulberry32): every run with the same seed makes the same
 * episodes, the same initial weights and the same samples. Learning code never calls Math.random.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Draws an index from a probability vector. */
  categorical(probabilities: Float32Array | number[]): number {
    let r = this.next();
    for (let i = 0; i < probabilities.length; i++) {
      r -= probabilities[i]!;
      if (r <= 0) return i;
    }
    return probabilities.length - 1;
  }
}
