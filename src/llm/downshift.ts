import { pollEvery } from '../system/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { MODE_CONFIG, MODES, RECOVER_BELOW_MS, type Mode } from './routing.ts';
import type { ForcedEntry, SharedDownshifts } from './shared-downshift.ts';

interface ModeState {
  active: boolean;
  forced: boolean;
  /** Who forced it (the operator route's actor); null when not forced. */
  forcedBy: string | null;
  /** When a forced downshift lapses unless forced again (renewed); null: until cleared. */
  expiresAt: number | null;
  since: number | null;
  /** When the mode last went down or came back (the minimum dwell counts from it). */
  changedAt: number;
  routed: number;
  /** When the last probe went to the downshifted mode itself. */
  lastProbe: number;
}

export interface DownshiftStatus {
  readonly mode: Mode;
  readonly active: boolean;
  readonly forced: boolean;
  readonly forcedBy: string | null;
  /** ISO time a forced downshift lapses unless renewed; null when it holds until cleared (or is not forced). */
  readonly expiresAt: string | null;
  readonly to: Mode | null;
  readonly p95Ms: number | null;
  readonly samples: number;
}

/** A forced downshift that ended without a clear: its TTL ran out. */
export interface DownshiftLapse {
  readonly mode: Mode;
  readonly forcedBy: string | null;
  readonly forcedAt: number | null;
  /** When it was due to lapse (its TTL's end). */
  readonly expiresAt: number;
  readonly expiredAt: number;
}

/**
 * Automatic downshift with hysteresis. Each mode keeps the latencies of its briefs over one sliding
 * window (the last `windowMs`, at most its last `maxSamples` briefs), and the same window decides
 * both ways: past its bound (MODE_CONFIG) the mode downshifts — new requests of that mode go to the
 * next cheaper mode — and it comes back once the window's p95 is under RECOVER_BELOW_MS (the margin
 * under the trigger), from at least `recoverSamples` briefs. A change holds for at least `minDwellMs`
 * (by default the window itself: the slow briefs that sent it down have left the window before it can
 * come back, and the fast ones that brought it back fill the window before it can go down again).
 * While downshifted, a probe still goes to the mode: one request in `probeEvery`, or the first after
 * `probeIntervalMs` without one, so a mode that sees 60 requests a minute probes as surely as one that
 * sees 6,000. The downshift runbook forces and clears it; a forced downshift does not recover by
 * itself, but lapses after its TTL unless forced again (`onLapse` is told, for the audit log).
 */
export class DownshiftController {
  private readonly samples = new Map<Mode, Array<{ at: number; ms: number }>>(MODES.map((m) => [m, []]));
  private readonly state = new Map<Mode, ModeState>(
    MODES.map((m) => [m, { active: false, forced: false, forcedBy: null, expiresAt: null, since: null, changedAt: -Infinity, routed: 0, lastProbe: 0 }]),
  );
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly maxSamples: number;
  private readonly minSamples: number;
  private readonly minDwellMs: number;
  private readonly probeEvery: number;
  private readonly probeIntervalMs: number;
  private readonly recoverSamples: number;
  private readonly metrics: Metrics | undefined;
  /** Told when a forced downshift lapses (its TTL ran out): the service writes it to the audit log. */
  onLapse: ((lapse: DownshiftLapse) => void) | undefined;
  /** Forced downshifts shared by every instance (Redis), when shared. */
  private shared: SharedDownshifts | undefined;
  private polling: { stop(): void } | undefined;

  constructor(
    options: {
      now?: () => number;
      windowMs?: number;
      maxSamples?: number;
      minSamples?: number;
      minDwellMs?: number;
      probeEvery?: number;
      probeIntervalMs?: number;
      recoverSamples?: number;
      metrics?: Metrics;
    } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxSamples = options.maxSamples ?? 2_000;
    this.minSamples = options.minSamples ?? 10;
    this.minDwellMs = options.minDwellMs ?? this.windowMs;
    this.probeEvery = options.probeEvery ?? 10;
    this.probeIntervalMs = options.probeIntervalMs ?? 5_000;
    this.recoverSamples = options.recoverSamples ?? 3;
    this.metrics = options.metrics;
    for (const mode of MODES) this.publish(mode);
  }

  /** The mode a request of `mode` is served in, and the mode it was downshifted from. */
  route(mode: Mode): { mode: Mode; from?: Mode } {
    this.lapse();
    let current = mode;
    for (;;) {
      const state = this.state.get(current)!;
      const to = MODE_CONFIG[current].downshiftTo;
      if (!state.active || to === null) break;
      state.routed++;
      // A probe (by count, or by time at low traffic) measures the mode itself, so it can recover.
      if (!state.forced && (state.routed % this.probeEvery === 0 || this.now() - state.lastProbe >= this.probeIntervalMs)) {
        state.lastProbe = this.now();
        break;
      }
      current = to;
    }
    return current === mode ? { mode } : { mode: current, from: mode };
  }

  record(mode: Mode, ms: number): void {
    const list = this.samples.get(mode)!;
    const at = this.now();
    list.push({ at, ms });
    while (list.length > 0 && (list[0]!.at < at - this.windowMs || list.length > this.maxSamples)) list.shift();
    this.evaluate(mode);
  }

  /** p95 of the window (null below `atLeast` briefs). */
  private p95(mode: Mode, atLeast = this.minSamples): { p95: number | null; count: number } {
    const cutoff = this.now() - this.windowMs;
    const values = this.samples.get(mode)!.filter((s) => s.at >= cutoff).map((s) => s.ms).sort((a, b) => a - b);
    if (values.length < atLeast) return { p95: null, count: values.length };
    return { p95: values[Math.min(values.length - 1, Math.ceil(0.95 * values.length) - 1)]!, count: values.length };
  }

  private evaluate(mode: Mode): void {
    const bound = MODE_CONFIG[mode].downshiftAboveMs;
    const state = this.state.get(mode)!;
    if (bound === null || state.forced) return;
    const now = this.now();
    if (now - state.changedAt < this.minDwellMs) return;
    if (!state.active) {
      const { p95 } = this.p95(mode);
      if (p95 !== null && p95 > bound) Object.assign(state, { active: true, since: now, changedAt: now, routed: 0, lastProbe: now });
    } else {
      const { p95 } = this.p95(mode, this.recoverSamples);
      if (p95 !== null && p95 < RECOVER_BELOW_MS) Object.assign(state, { active: false, since: null, changedAt: now, routed: 0 });
    }
    this.publish(mode);
  }

  /** The entry forcing `mode` now would write: a renewal keeps its first time. */
  private entryFor(mode: Mode, by: string, ttlMs: number | undefined): ForcedEntry {
    if (MODE_CONFIG[mode].downshiftTo === null) throw new RangeError(`${mode} has no cheaper mode to downshift to`);
    if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs > 0)) throw new RangeError(`ttl must be a positive number of milliseconds, not ${ttlMs}`);
    const now = this.now();
    const state = this.state.get(mode)!;
    return { by, since: state.forced && state.since !== null ? state.since : now, expiresAt: ttlMs === undefined ? null : now + ttlMs };
  }

  /**
   * Forces `mode` down on this instance. With `ttlMs`, it lapses that long from now unless forced
   * again (each force renews it); without, it holds until cleared.
   */
  force(mode: Mode, by = 'operator', ttlMs?: number): void {
    this.adopt(mode, this.entryFor(mode, by, ttlMs));
  }

  /** Forces `mode` down everywhere it is shared (written to Redis first: a write that fails changes nothing), and here. */
  async forceShared(mode: Mode, by = 'operator', ttlMs?: number): Promise<void> {
    const entry = this.entryFor(mode, by, ttlMs);
    await this.shared?.put(mode, entry);
    this.adopt(mode, entry);
  }

  /** Clears `mode` everywhere it is shared, and here. */
  async clearShared(mode: Mode): Promise<void> {
    await this.shared?.remove(mode);
    this.clear(mode);
  }

  /** Takes a forced downshift as written (here or by another instance). */
  private adopt(mode: Mode, entry: ForcedEntry): void {
    const state = this.state.get(mode)!;
    if (state.forced && state.forcedBy === entry.by && state.expiresAt === entry.expiresAt && state.since === entry.since) return;
    const now = this.now();
    Object.assign(state, { active: true, forced: true, forcedBy: entry.by, expiresAt: entry.expiresAt, since: entry.since, changedAt: now, routed: 0, lastProbe: now });
    this.publish(mode);
  }

  /**
   * Shares forced downshifts through `shared`: read now and every `pollMs` (a force or clear on
   * another instance reaches this one within it; a restarted instance starts with them).
   * `onError` hears a read that failed (the instance keeps what it had).
   */
  share(shared: SharedDownshifts, options: { pollMs?: number; onError?: (error: unknown) => void } = {}): Promise<void> {
    this.shared = shared;
    const sync = async () => {
      const damaged = await this.sync();
      if (damaged.length > 0) options.onError?.(new Error(`unreadable fields of the shared downshift state, ignored: ${damaged.join(', ')}`));
    };
    const polling = pollEvery(sync, options.pollMs ?? 1_000, options.onError);
    this.polling = polling;
    return polling.first;
  }

  stopSharing(): void {
    this.polling?.stop();
    this.polling = undefined;
  }

  /** Makes this instance's forced modes what the shared state says; returns the fields it could not read. */
  async sync(): Promise<string[]> {
    if (this.shared === undefined) return [];
    const { forced, damaged } = await this.shared.read();
    const now = this.now();
    for (const mode of MODES) {
      if (MODE_CONFIG[mode].downshiftTo === null) continue;
      const entry = forced.get(mode);
      // An entry past its end is lapsing (the instance that removes it audits it): not adopted again.
      if (entry !== undefined && (entry.expiresAt === null || entry.expiresAt > now)) this.adopt(mode, entry);
      else if (entry === undefined && this.state.get(mode)!.forced) this.clear(mode);
    }
    return damaged;
  }

  /** Clears `mode` on this instance: it serves itself again, judged afresh. */
  clear(mode: Mode): void {
    Object.assign(this.state.get(mode)!, { active: false, forced: false, forcedBy: null, expiresAt: null, since: null, changedAt: -Infinity, routed: 0 });
    this.samples.set(mode, []);
    this.publish(mode);
  }

  /** Lifts every forced downshift whose TTL ran out, and says so. */
  private lapse(): void {
    const now = this.now();
    for (const [mode, state] of this.state) {
      if (!state.forced || state.expiresAt === null || now < state.expiresAt) continue;
      const lapse: DownshiftLapse = { mode, forcedBy: state.forcedBy, forcedAt: state.since, expiresAt: state.expiresAt, expiredAt: now };
      this.clear(mode);
      this.onLapse?.(lapse);
    }
  }

  status(): DownshiftStatus[] {
    this.lapse();
    return MODES.map((mode) => {
      const state = this.state.get(mode)!;
      const { p95, count } = this.p95(mode);
      return {
        mode,
        active: state.active,
        forced: state.forced,
        forcedBy: state.forcedBy,
        expiresAt: state.expiresAt === null ? null : new Date(state.expiresAt).toISOString(),
        to: state.active ? MODE_CONFIG[mode].downshiftTo : null,
        p95Ms: p95,
        samples: count,
      };
    });
  }

  private publish(mode: Mode): void {
    this.metrics?.llmDownshiftActive.set({ mode }, this.state.get(mode)!.active ? 1 : 0);
  }
}
