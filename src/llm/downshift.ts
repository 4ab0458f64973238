import type { Metrics } from '../metrics/index.ts';
import { MODE_CONFIG, MODES, RECOVER_BELOW_MS, type Mode } from './routing.ts';

interface ModeState {
  active: boolean;
  forced: boolean;
  /** Who forced it (the operator route's actor); null when not forced. */
  forcedBy: string | null;
  since: number | null;
  routed: number;
  /** When the last probe went to the downshifted mode itself. */
  lastProbe: number;
}

export interface DownshiftStatus {
  readonly mode: Mode;
  readonly active: boolean;
  readonly forced: boolean;
  readonly forcedBy: string | null;
  readonly to: Mode | null;
  readonly p95Ms: number | null;
  readonly samples: number;
}

/**
 * Automatic downshift with hysteresis. Each mode keeps the latencies of its briefs over a sliding
 * window; past its bound (MODE_CONFIG) the mode downshifts — new requests of that mode go to the
 * next cheaper mode — until it is fast again. While downshifted, a probe still goes to the mode: one
 * request in `probeEvery`, or the first after `probeIntervalMs` without one, so a mode that sees 60
 * requests a minute probes as surely as one that sees 6,000. It recovers on the probes alone: once
 * at least `recoverSamples` briefs of the mode since it downshifted and within the window have a p95
 * below RECOVER_BELOW_MS (the slow samples that downshifted it never count against its recovery). The downshift runbook forces
 * and clears it; a forced downshift does not recover by itself.
 */
export class DownshiftController {
  private readonly samples = new Map<Mode, Array<{ at: number; ms: number }>>(MODES.map((m) => [m, []]));
  private readonly state = new Map<Mode, ModeState>(MODES.map((m) => [m, { active: false, forced: false, forcedBy: null, since: null, routed: 0, lastProbe: 0 }]));
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly minSamples: number;
  private readonly probeEvery: number;
  private readonly probeIntervalMs: number;
  private readonly recoverSamples: number;
  private readonly metrics: Metrics | undefined;

  constructor(
    options: { now?: () => number; windowMs?: number; minSamples?: number; probeEvery?: number; probeIntervalMs?: number; recoverSamples?: number; metrics?: Metrics } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.windowMs = options.windowMs ?? 60_000;
    this.minSamples = options.minSamples ?? 10;
    this.probeEvery = options.probeEvery ?? 10;
    this.probeIntervalMs = options.probeIntervalMs ?? 5_000;
    this.recoverSamples = options.recoverSamples ?? 3;
    this.metrics = options.metrics;
    for (const mode of MODES) this.publish(mode);
  }

  /** The mode a request of `mode` is served in, and the mode it was downshifted from. */
  route(mode: Mode): { mode: Mode; from?: Mode } {
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
    while (list.length > 0 && (list[0]!.at < at - this.windowMs || list.length > 1_000)) list.shift();
    this.evaluate(mode);
  }

  private p95(mode: Mode): { p95: number | null; count: number } {
    const cutoff = this.now() - this.windowMs;
    const values = this.samples.get(mode)!.filter((s) => s.at >= cutoff).map((s) => s.ms).sort((a, b) => a - b);
    if (values.length < this.minSamples) return { p95: null, count: values.length };
    return { p95: values[Math.min(values.length - 1, Math.ceil(0.95 * values.length) - 1)]!, count: values.length };
  }

  private evaluate(mode: Mode): void {
    const bound = MODE_CONFIG[mode].downshiftAboveMs;
    const state = this.state.get(mode)!;
    if (bound === null || state.forced) return;
    if (!state.active) {
      const { p95 } = this.p95(mode);
      if (p95 !== null && p95 > bound) Object.assign(state, { active: true, since: this.now(), routed: 0, lastProbe: this.now() });
    } else {
      // Judged on what the mode did since it downshifted (its probes), not on the slow window that downshifted it.
      const since = Math.max(state.since ?? 0, this.now() - this.windowMs - 1);
      const fresh = this.samples.get(mode)!.filter((s) => s.at > since).map((s) => s.ms).sort((a, b) => a - b);
      if (fresh.length >= this.recoverSamples && fresh[Math.min(fresh.length - 1, Math.ceil(0.95 * fresh.length) - 1)]! < RECOVER_BELOW_MS) {
        Object.assign(state, { active: false, since: null, routed: 0 });
      }
    }
    this.publish(mode);
  }

  force(mode: Mode, by = 'operator'): void {
    if (MODE_CONFIG[mode].downshiftTo === null) throw new RangeError(`${mode} has no cheaper mode to downshift to`);
    Object.assign(this.state.get(mode)!, { active: true, forced: true, forcedBy: by, since: this.now(), routed: 0, lastProbe: this.now() });
    this.publish(mode);
  }

  clear(mode: Mode): void {
    Object.assign(this.state.get(mode)!, { active: false, forced: false, forcedBy: null, since: null, routed: 0 });
    this.samples.set(mode, []);
    this.publish(mode);
  }

  status(): DownshiftStatus[] {
    return MODES.map((mode) => {
      const state = this.state.get(mode)!;
      const { p95, count } = this.p95(mode);
      return { mode, active: state.active, forced: state.forced, forcedBy: state.forcedBy, to: state.active ? MODE_CONFIG[mode].downshiftTo : null, p95Ms: p95, samples: count };
    });
  }

  private publish(mode: Mode): void {
    this.metrics?.llmDownshiftActive.set({ mode }, this.state.get(mode)!.active ? 1 : 0);
  }
}
