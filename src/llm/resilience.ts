import { randomInt } from 'node:crypto';

/**
 * Per-slot circuit breaker and retry policy for the LLM backends.
 *
 * Breaker: `threshold` consecutive failures open it; while open, calls are refused at once (the
 * next slot answers); after `cooldownMs` one trial call is let through (half-open) — success
 * closes it, failure opens it again.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private opened = false;
  readonly threshold: number;
  readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(options: { threshold?: number; cooldownMs?: number; now?: () => number } = {}) {
    this.threshold = options.threshold ?? 3;
    this.cooldownMs = options.cooldownMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (!this.opened) return 'closed';
    return this.now() - this.openedAt >= this.cooldownMs ? 'half-open' : 'open';
  }

  /** Whether a call may go out now (in half-open, only one at a time). */
  allow(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.opened = false;
    this.trialInFlight = false;
  }

  /** A call allow() let through that never went out: frees the half-open trial, counts nothing. */
  release(): void {
    this.trialInFlight = false;
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.opened || this.failures >= this.threshold) {
      this.opened = true;
      this.openedAt = this.now();
    }
  }
}

/** Full-jitter exponential backoff: a random wait in [0, base·2^attempt], capped (jitter spreads retries of many clients). */
export function backoffMs(attempt: number, baseMs: number, capMs: number, pick: (maxExclusive: number) => number = (max) => randomInt(max)): number {
  const ceiling = Math.max(1, Math.floor(Math.min(capMs, baseMs * 2 ** attempt)));
  return pick(ceiling + 1);
}
