import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DEFAULT_CRITERIA, judge } from '../../src/canary/index.ts';
import { briefKey, decodeCheckpoint, FormulationEnv, policyNetwork, Random, SHIPPED_FILES, SHIPPED_MODELS_DIR, STUDENT_HIDDEN, trainingBriefSets, type Mlp } from '../../src/learning/index.ts';
import { buildReport, composerAloneReward, runModel, type Comparison } from '../../src/shadow/index.ts';

/**
 * The shadow verdict can say no, with real models: what a student keeps of the shipped teacher's lift
 * over the composer alone, on distinct held-out briefs. An untrained student keeps nothing of it and
 * is reported not non-inferior — and a canary promotion relying on that retention is refused — while
 * the shipped student is non-inferior.
 */
const env = new FormulationEnv();
const load = (file: string): Mlp => decodeCheckpoint(readFileSync(new URL(file, SHIPPED_MODELS_DIR)), env.world).net;
const teacher = load(SHIPPED_FILES['formulation-teacher']);
const heldOut = trainingBriefSets().heldOut;
const briefs = heldOut.slice(0, 60);

function compare(student: Mlp, set = briefs): Comparison[] {
  return set.map((brief, i) => {
    const t = runModel(env, teacher, brief);
    const s = runModel(env, student, brief);
    const model = (latencyMs: number, reward: number, who: string) => ({ latencyMs, reward, version: '1.0.0', cid: who });
    return {
      id: `v${i}`,
      at: new Date(0).toISOString(),
      stage: 'staging',
      source: 'offline',
      briefKey: briefKey(brief),
      first: 'teacher',
      baseline: composerAloneReward(env, brief),
      production: model(t.latencyMs, t.reward, 'teacher'),
      teacher: model(t.latencyMs, t.reward, 'teacher'),
      student: model(s.latencyMs, s.reward, 'student'),
      klDivergence: 0,
      cosineSimilarity: 1,
      productionCosine: { teacher: 1, student: 1 },
      speedup: t.latencyMs / s.latencyMs,
    };
  });
}

describe('the shadow verdict with real models', () => {
  it('reports an untrained student not non-inferior to the shipped teacher, and a promotion relying on it is refused', () => {
    const report = buildReport(compare(policyNetwork(env, STUDENT_HIDDEN, new Random(1))));
    assert.equal(report.summary.distinct_briefs, briefs.length);
    assert.equal(report.verdict.student_non_inferior, false, report.verdict.explanation);
    assert.ok(report.summary.reward.retention_rate! < 0.5, `retention of the lift ${report.summary.reward.retention_rate}`);
    const canary = { address: 'canary', requests: 1000, errors: 0, latencyBins: [1000], shadowRetention: report.summary.reward.retention_rate ?? 0 };
    const stable = { address: 'stable', requests: 1000, errors: 0, latencyBins: [1000], shadowRetention: null };
    const decision = judge(stable, canary, [1], { from: new Date(0).toISOString(), to: new Date(1).toISOString() }, DEFAULT_CRITERIA);
    assert.equal(decision.verdict, 'rollback', JSON.stringify(decision));
  });

  it('counts briefs, not repeats: a real student near the margin passes on 40 distinct briefs; 10 of them, cycled to 400 comparisons, do not pass', () => {
    // A student that keeps most of the lift but not all: the shipped student's weights 30 % of the way
    // from an untrained net's (lift retention about 0.94–0.99 on held-out briefs).
    const shipped = load(SHIPPED_FILES['formulation-student']);
    const near = policyNetwork(env, STUDENT_HIDDEN, new Random(1));
    const mix = (to: Float32Array, from: Float32Array) => to.forEach((x, i) => (to[i] = 0.3 * from[i]! + 0.7 * x));
    near.weights.forEach((w, l) => mix(w, shipped.weights[l]!));
    near.biases.forEach((b, l) => mix(b, shipped.biases[l]!));
    near.head.forEach((_, i) => (near.head[i] = 0.3 * shipped.head[i]!));
    const forty = compare(near, heldOut.slice(140, 180));
    const distinct = buildReport(forty);
    assert.equal(distinct.summary.distinct_briefs, 40);
    assert.equal(distinct.verdict.student_non_inferior, true, distinct.verdict.explanation);
    const ten = buildReport(forty.slice(0, 10));
    assert.equal(ten.verdict.student_non_inferior, false, ten.verdict.explanation);
    assert.ok(ten.verdict.required_sample_size! > 10, 'it names how many distinct briefs it needs');
    const cycled = buildReport(Array.from({ length: 400 }, (_, k) => ({ ...forty[k % 10]!, id: `c${k}` })));
    assert.equal(cycled.summary.total_comparisons, 400);
    assert.equal(cycled.summary.distinct_briefs, 10);
    assert.equal(cycled.verdict.student_non_inferior, false, cycled.verdict.explanation);
    assert.deepEqual(cycled.intervals.retention_rate, ten.intervals.retention_rate, 'repeats do not narrow the interval');
  });

  it('reports the shipped student non-inferior', () => {
    const report = buildReport(compare(load(SHIPPED_FILES['formulation-student'])));
    assert.equal(report.verdict.student_non_inferior, true, report.verdict.explanation);
    assert.ok(report.summary.reward.retention_rate! >= 0.92);
  });
});
