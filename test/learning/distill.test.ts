import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { distill, FormulationEnv, kl, PpoTrainer, TRAINING_BRIEFS } from '../../src/learning/index.ts';
import { localBrief } from '../../src/llm/index.ts';

describe('teacher → student distillation', () => {
  it('lowers KL(teacher ‖ student) on held-out teacher states, and reports it in its result', async () => {
    const env = new FormulationEnv();
    const briefs = TRAINING_BRIEFS.slice(0, 3).map(localBrief);
    const teacher = new PpoTrainer({ env, briefs, seed: 7, hidden: 64 });
    teacher.train(192);
    // The held-out KL is measured on briefs the student never learns from.
    const heldOutBriefs = TRAINING_BRIEFS.slice(3, 5).map(localBrief);
    const result = distill({ teacher: teacher.policy, env, briefs, heldOutBriefs, seed: 1, episodesPerBrief: 20, epochs: 15 });
    assert.ok(result.klAfter < result.klBefore / 2, `KL ${result.klBefore.toFixed(3)} → ${result.klAfter.toFixed(3)}`);
    assert.ok(result.klAfter <= 0.15, `KL after ${result.klAfter}`);
    assert.equal(result.student.sizes[1], 8, 'a smaller student: 8 hidden units against the teacher of 64');
  });

  it('computes KL as it is defined: zero for equal distributions, positive otherwise', () => {
    const p = Float32Array.of(0.5, 0.5);
    assert.equal(kl(p, p), 0);
    assert.ok(kl(p, Float32Array.of(0.9, 0.1)) > 0.3);
  });
});
