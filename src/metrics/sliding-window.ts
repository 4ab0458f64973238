/**
 * Counts events per label set over a sliding time window, in a ring of equal
 * time slots (60 by default). Adding is O(1); summing is O(slots) and happens
 * only at scrape time. Written here rather than taken from a library because
 * prom-client has no windowed counter and the gauges must be computed from the
 * same events as the conventional counters beside them.
 */
export interface WindowSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: Float64Array;
  /** For each slot, the slot number (time / slot width) it last counted for. */
  readonly stamps: Float64Array;
}

export class SlidingWindow {
  readonly windowSeconds: number;
  private readonly slots: number;
  private readonly slotMs: number;
  private readonly now: () => number;
  private readonly startedAtMs: number;
  private readonly series = new Map<string, WindowSeries>();

  constructor(windowSeconds: number, now: () => number = Date.now, slots = 60) {
    if (!(windowSeconds > 0) || !Number.isInteger(slots) || slots < 1) {
      throw new RangeError(`invalid sliding window: ${windowSeconds}s over ${slots} slots`);
    }
    this.windowSeconds = windowSeconds;
    this.slots = slots;
    this.slotMs = (windowSeconds * 1000) / slots;
    this.now = now;
    this.startedAtMs = now();
  }

  add(key: string, labels: Readonly<Record<string, string>>, amount = 1): void {
    this.addTo(this.seriesOf(key, labels), amount);
  }

  /** The series of one label set, created on first use: a caller that keeps it adds with no lookup. */
  seriesOf(key: string, labels: Readonly<Record<string, string>>): WindowSeries {
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels, counts: new Float64Array(this.slots), stamps: new Float64Array(this.slots).fill(-1) };
      this.series.set(key, entry);
    }
    return entry;
  }

  /** Adds to a series this window handed out (seriesOf), at `now` (this window's clock, read when not given). */
  addTo(entry: WindowSeries, amount = 1, now = this.now()): void {
    const stamp = Math.floor(now / this.slotMs);
    const slot = stamp % this.slots;
    if (entry.stamps[slot] !== stamp) {
      entry.stamps[slot] = stamp;
      entry.counts[slot] = 0;
    }
    entry.counts[slot]! += amount;
  }

  /** Events in the window for one label set (0 when never seen). */
  sum(key: string): number {
    const entry = this.series.get(key);
    return entry === undefined ? 0 : this.sumSeries(entry, Math.floor(this.now() / this.slotMs));
  }

  /** Every label set ever seen, with its events in the window. */
  totals(): Array<{ key: string; labels: Readonly<Record<string, string>>; count: number }> {
    const current = Math.floor(this.now() / this.slotMs);
    const out: Array<{ key: string; labels: Readonly<Record<string, string>>; count: number }> = [];
    for (const [key, entry] of this.series) out.push({ key, labels: entry.labels, count: this.sumSeries(entry, current) });
    return out;
  }

  /**
   * Seconds the window actually covers: the full window once the process has
   * run that long, less before (so a rate is not understated right after start),
   * and never less than one slot.
   */
  coveredSeconds(): number {
    const elapsedSeconds = (this.now() - this.startedAtMs) / 1000;
    return Math.max(this.slotMs / 1000, Math.min(this.windowSeconds, elapsedSeconds));
  }

  private sumSeries(entry: WindowSeries, current: number): number {
    let total = 0;
    const oldest = current - this.slots;
    for (let i = 0; i < this.slots; i++) {
      if (entry.stamps[i]! > oldest) total += entry.counts[i]!;
    }
    return total;
  }
}
