import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DownshiftController, type DownshiftLapse } from '../../src/llm/index.ts';
import { catalogue, createMetrics, readSamples } from '../../src/metrics/index.ts';

/**
 * 100 requests a second of `mode` for `seconds`, each answered in `latencyMs` when served in the mode
 * itself (300 ms when downshifted); `onRequest` sees whether the mode is downshifted after each.
 */
function traffic(downshift: DownshiftController, clock: { now: number }, seconds: number, latencyMs: number, mode: 'balanced' | 'creative' = 'balanced', onRequest?: (active: boolean) => void) {
  let servedInMode = 0;
  for (let i = 0; i < seconds * 100; i++) {
    clock.now += 10;
    const routed = downshift.route(mode).mode;
    if (routed === mode) servedInMode++;
    downshift.record(routed, routed === mode ? latencyMs : 300);
    onRequest?.(downshift.status().find((s) => s.mode === mode)!.active);
  }
  return servedInMode;
}

describe('downshift controller: one window both ways, hysteresis and a minimum dwell', () => {
  it('settles: after a slow spell, healthy traffic at 100 req/s flips back once and stays (before: 95 flips in 20 s, 704 of 2,000 served in balanced)', async () => {
    const clock = { now: 1_000_000 };
    const metrics = createMetrics({ defaultMetrics: false });
    const downshift = new DownshiftController({ now: () => clock.now, metrics });
    let flips = 0;
    let last = false;
    const watch = (active: boolean) => {
      if (active !== last) flips++;
      last = active;
    };
    // A slow burst (a fifth of a second) sends balanced down; its slow briefs stay in the window for a minute.
    traffic(downshift, clock, 0.2, 3_500, 'balanced', watch);
    assert.equal(last, true, 'downshifted by the slow spell');
    assert.equal(flips, 1);
    // Then 20 healthy seconds, watched after every request, and 60 more.
    const first20 = traffic(downshift, clock, 20, 600, 'balanced', watch);
    traffic(downshift, clock, 60, 600, 'balanced', watch);
    assert.ok(flips - 1 <= 1, `healthy traffic flipped it ${flips - 1} times`);
    assert.equal(flips - 1, 1, 'and it did come back');
    assert.equal(last, false);
    // The metric says what the controller says.
    assert.equal((await readSamples(metrics.registry, catalogue.llmDownshiftActive)).find((s) => s.labels.mode === 'balanced')!.value, 0);
    // Once back, every request is served in balanced; while the slow spell was in the window, the probes were.
    assert.equal(traffic(downshift, clock, 20, 600), 2_000);
    assert.ok(first20 >= 200, `${first20} of 2,000 in the first 20 s: the probes at least`);
  });

  it('holds a change for the minimum dwell: a brief spike right after recovering does not send the mode down again', () => {
    const clock = { now: 2_000_000 };
    const downshift = new DownshiftController({ now: () => clock.now, minSamples: 5 });
    traffic(downshift, clock, 5, 6_000, 'creative');
    assert.equal(downshift.route('creative').from, 'creative');
    traffic(downshift, clock, 70, 800, 'creative');
    assert.equal(downshift.status().find((s) => s.mode === 'creative')!.active, false, 'recovered');
    // 3 slow seconds inside the dwell: not enough to go down again until a window has passed.
    traffic(downshift, clock, 3, 6_000, 'creative');
    assert.equal(downshift.status().find((s) => s.mode === 'creative')!.active, false, 'still in its dwell');
    traffic(downshift, clock, 60, 6_000, 'creative');
    assert.equal(downshift.status().find((s) => s.mode === 'creative')!.active, true, 'a slow spell past the dwell sends it down');
  });

  it('recovers only under the margin: a p95 between 2000 ms and the 3000 ms trigger keeps it down', () => {
    const clock = { now: 3_000_000 };
    const downshift = new DownshiftController({ now: () => clock.now });
    traffic(downshift, clock, 5, 3_500);
    traffic(downshift, clock, 180, 2_500);
    assert.equal(downshift.status().find((s) => s.mode === 'balanced')!.active, true);
  });

  it('lets a forced downshift lapse after its TTL unless forced again, and says so', () => {
    const clock = { now: 4_000_000 };
    const lapses: DownshiftLapse[] = [];
    const downshift = new DownshiftController({ now: () => clock.now });
    downshift.onLapse = (lapse) => lapses.push(lapse);
    downshift.force('creative', 'alertmanager (rule HighLLMLatency)', 60_000);
    assert.equal(downshift.status().find((s) => s.mode === 'creative')!.expiresAt, new Date(4_060_000).toISOString());
    clock.now += 50_000;
    downshift.force('creative', 'alertmanager (rule HighLLMLatency)', 60_000); // renewed
    clock.now += 50_000;
    assert.deepEqual(downshift.route('creative'), { mode: 'balanced', from: 'creative' }, 'renewed: still forced 100 s after the first force');
    assert.deepEqual(lapses, []);
    clock.now += 11_000;
    assert.deepEqual(downshift.route('creative'), { mode: 'creative' }, 'lapsed');
    assert.deepEqual(lapses, [{ mode: 'creative', forcedBy: 'alertmanager (rule HighLLMLatency)', forcedAt: 4_000_000, expiresAt: 4_110_000, expiredAt: 4_111_000 }]);
    // Without a TTL it holds until cleared.
    downshift.force('balanced', 'operator');
    clock.now += 30 * 86_400_000;
    assert.equal(downshift.route('balanced').mode, 'fast');
    assert.throws(() => downshift.force('balanced', 'operator', -5), /positive/);
  });
});
