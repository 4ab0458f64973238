import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judge, type Criteria, type InstanceWindow } from '../../src/canary/analysis.ts';
import { differenceInterval, fisherGreater, mannWhitneyBinned, wilson } from '../../src/canary/stats.ts';
import { Random } from '../../src/learning/index.ts';

const close = (actual: number, expected: number, tolerance: number, what: string) => assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);

describe('the canary tests', () => {
  it('Fisher\'s exact test matches the hypergeometric tail computed exactly', () => {
    // P(X >= 10), X ~ Hypergeometric(N = 2500, K = 50, n = 250): 1 − 0.9767050624863354 (exact, with integer binomials).
    close(fisherGreater({ events: 10, total: 250 }, { events: 40, total: 2250 }), 1 - 0.9767050624863354, 1e-12, 'tail');
    assert.equal(fisherGreater({ events: 0, total: 250 }, { events: 3, total: 2250 }), 1);
    assert.ok(fisherGreater({ events: 75, total: 250 }, { events: 0, total: 2250 }) < 1e-50);
  });

  it('Wilson and Newcombe\'s hybrid interval reproduce the published examples', () => {
    // Newcombe (1998), Statistics in Medicine 17:857, example (a): 56/70 − 48/80, method 10: 0.0524 to 0.3339.
    const d = differenceInterval({ events: 56, total: 70 }, { events: 48, total: 80 }, 0.025);
    close(d.estimate, 0.2, 1e-12, 'estimate');
    close(d.low, 0.0524, 1e-4, 'low');
    close(d.high, 0.3339, 1e-4, 'high');
    // Wilson (1927) 95 % for 0/10: 0 to 0.2775.
    close(wilson({ events: 0, total: 10 }, 1.959964).high, 0.2775, 1e-4, 'wilson 0/10');
  });

  it('Mann–Whitney U on histograms equals U counted pair by pair on the expanded samples', () => {
    const canary = [3, 10, 20, 5, 2];
    const stable = [12, 30, 15, 2, 0];
    const expand = (bins: number[]) => bins.flatMap((count, bin) => Array.from({ length: count }, () => bin));
    let u = 0;
    for (const c of expand(canary)) for (const s of expand(stable)) u += c > s ? 1 : c === s ? 0.5 : 0;
    const result = mannWhitneyBinned(canary, stable, 0.05);
    assert.equal(result.u, u);
    close(result.auc, u / (40 * 59), 1e-12, 'auc');
    assert.ok(result.pSlower < 0.01, `a visibly slower canary: p ${result.pSlower}`);
    const same = mannWhitneyBinned([5, 10, 5], [50, 100, 50], 0.05);
    close(same.auc, 0.5, 1e-12, 'identical shapes');
    close(same.pSlower, 0.5, 1e-9, 'no evidence either way');
  });

  it('keeps the stated false-promotion rate: a canary 2 points worse is promoted in at most 5 % of runs', (t) => {
    // 2000 simulated analyses at the boundary of the margin (stable 1 % errors, canary 3 %), 2 looks each.
    const random = new Random(11);
    const criteria: Criteria = { alpha: 0.05, looks: 2, errorMargin: 0.02, latencyMargin: 0.1, minSamples: 200, retentionMargin: 0.92 };
    const draw = (n: number, p: number) => {
      let k = 0;
      for (let i = 0; i < n; i++) if (random.next() < p) k++;
      return k;
    };
    const instance = (address: string, requests: number, errors: number): InstanceWindow => ({ address, requests, errors, latencyBins: [requests - errors, errors], shadowRetention: null });
    let promotedBad = 0;
    let promotedGood = 0;
    let rolledBackGood = 0;
    const runs = 2000;
    for (let run = 0; run < runs; run++) {
      const looks = [
        [800, 2400],
        [1600, 4800],
      ];
      let badDecided = false;
      let goodDecided = false;
      let bad = { c: 0, s: 0, cn: 0, sn: 0 };
      let good = { c: 0, s: 0, cn: 0, sn: 0 };
      for (const [cn, sn] of looks) {
        bad = { c: bad.c + draw(cn! - bad.cn, 0.03), s: bad.s + draw(sn! - bad.sn, 0.01), cn: cn!, sn: sn! };
        good = { c: good.c + draw(cn! - good.cn, 0.01), s: good.s + draw(sn! - good.sn, 0.01), cn: cn!, sn: sn! };
        // Latency bins mirror the errors here, so only the error test decides.
        const window = { from: '', to: '' };
        const sameLatency = (i: InstanceWindow): InstanceWindow => ({ ...i, latencyBins: [i.requests, 0] });
        if (!badDecided) {
          const verdict = judge(sameLatency(instance('s', sn!, bad.s)), sameLatency(instance('c', cn!, bad.c)), [0.1, 1], window, criteria).verdict;
          if (verdict === 'promote') promotedBad++;
          badDecided = verdict !== 'continue';
        }
        if (!goodDecided) {
          const verdict = judge(sameLatency(instance('s', sn!, good.s)), sameLatency(instance('c', cn!, good.c)), [0.1, 1], window, criteria).verdict;
          if (verdict === 'promote') promotedGood++;
          if (verdict === 'rollback') rolledBackGood++;
          goodDecided = verdict !== 'continue';
        }
      }
    }
    t.diagnostic(`simulated: bad canary (3 % vs 1 %) promoted ${promotedBad}/${runs}; good canary (1 % vs 1 %) promoted ${promotedGood}/${runs}, rolled back ${rolledBackGood}/${runs}`);
    assert.ok(promotedBad / runs <= 0.05, `false promotions ${promotedBad}/${runs}`);
    assert.ok(rolledBackGood / runs <= 0.05, `false rollbacks ${rolledBackGood}/${runs}`);
    assert.ok(promotedGood / runs >= 0.8, `a good canary is promoted by the second look in ${promotedGood}/${runs}`);
  });

  it('judges a canary failing 30 % of its requests: rollback, with the evidence', () => {
    const analysis = judge(
      { address: 's', requests: 2700, errors: 0, latencyBins: [2000, 700, 0], shadowRetention: null },
      { address: 'c', requests: 300, errors: 90, latencyBins: [220, 80, 0], shadowRetention: null },
      [0.005, 0.01, Infinity],
      { from: 'a', to: 'b' },
      { alpha: 0.05, looks: 6, errorMargin: 0.02, latencyMargin: 0.1, minSamples: 200, retentionMargin: 0.92 },
    );
    assert.equal(analysis.verdict, 'rollback');
    assert.match(analysis.reasons[0]!, /errors: canary 30\.00 % vs stable 0\.00 %/);
    close(analysis.evidence.perLookAlpha, 0.05 / 6, 1e-12, 'Bonferroni');
  });
});
