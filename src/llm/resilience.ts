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

/**
 * A slot's retry budget: retries may add at most `ratio` of its first attempts over the last
 * `windowMs` (and `floor` retries whatever the traffic), so a backend that is failing is not hit
 * again by every request's retries — the next slot answers instead (Google SRE's retry budget).
 */
export class RetryBudget {
  private readonly requests: number[] = [];
  private readonly retries: number[] = [];
  private readonly ratio: number;
  private readonly floor: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: { ratio?: number; floor?: number; windowMs?: number; now?: () => number } = {}) {
    this.ratio = options.ratio ?? 0.2;
    this.floor = options.floor ?? 3;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  private trim(list: number[]): void {
    const cutoff = this.now() - this.windowMs;
    while (list.length > 0 && list[0]! < cutoff) list.shift();
  }

  /** A first attempt went out. */
  request(): void {
    this.requests.push(this.now());
    this.trim(this.requests);
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(): boolean {
    this.trim(this.requests);
    this.trim(this.retries);
    if (this.retries.length >= Math.max(this.floor, this.ratio * this.requests.length)) return false;
    this.retries.push(this.now());
    return true;
  }
}

/** A 429's Retry-After in ms (seconds or an HTTP date), or undefined when there is none. */
export function retryAfterMs(value: string | null | undefined, now: () => number = Date.now): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now()) : undefined;
}
