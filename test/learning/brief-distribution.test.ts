import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { briefKey, DISTILL_BRIEFS, EVALUATION_SAMPLE, SEARCH_BRIEFS, trainingBriefSets, TRAINING_BRIEF_COUNT } from '../../src/learning/index.ts';
import { localBrief } from '../../src/llm/index.ts';
import { offlineBriefs } from '../../src/shadow/index.ts';

const sets = trainingBriefSets();
const keys = (briefs: ReadonlyArray<Parameters<typeof briefKey>[0]>) => new Set(briefs.map((b) => briefKey(b)));
const trainingKeys = keys(sets.training);

describe('the brief distribution: held-out sets never trained on, briefs told apart by what the environment reads', () => {
  it('keys a brief by exactly what the environment reads: language, budget, hints, spelling and a note\'s position do not count; moods, product and dosage do', () => {
    const a = localBrief('a fresh green tea scent for summer, no musk');
    const korean = { ...a, language: 'ko' as const, budgetTier: 'luxury' as const, creativeHints: ['morning dew'], constraints: ['long-lasting'] };
    assert.equal(briefKey(korean), briefKey(a));
    const n = a.notesPreference;
    const moved = { ...a, notesPreference: { ...n, top: [], heart: [...n.top.map((note) => `${note.toUpperCase()}S`), ...n.heart] } };
    assert.equal(briefKey(moved), briefKey(a), 'the same note, named at another position and spelled otherwise');
    assert.notEqual(briefKey({ ...a, mood: ['cozy'] }), briefKey(a));
    assert.notEqual(briefKey({ ...a, productCategory: 'CANDLE' }), briefKey(a));
    assert.notEqual(briefKey(a, 5), briefKey(a));
  });

  it('draws distinct training briefs, none of them a held-out generated brief, a customer text or one of our kept character briefs', () => {
    assert.equal(sets.training.length, TRAINING_BRIEF_COUNT);
    assert.equal(trainingKeys.size, TRAINING_BRIEF_COUNT, 'distinct by what the environment reads');
    for (const [name, set] of [['held-out', sets.heldOut], ['character', sets.character]] as const) {
      const leaked = set.filter((b) => trainingKeys.has(briefKey(b)));
      assert.deepEqual(leaked.map((b) => briefKey(b)), [], `${name} briefs in training`);
    }
    assert.ok(sets.character.length >= 40);
  });

  it('keeps the hybrid\'s searched briefs and the distillation\'s held-out briefs out of the training figures\' slice and the student\'s lessons', () => {
    // The search works on the last SEARCH_BRIEFS training briefs; the training figures read the first EVALUATION_SAMPLE.
    assert.ok(TRAINING_BRIEF_COUNT - SEARCH_BRIEFS >= EVALUATION_SAMPLE);
    // The student learns from the first DISTILL_BRIEFS; its held-out KL is measured on the ones after (training.ts).
    const learnFrom = keys(sets.training.slice(0, DISTILL_BRIEFS));
    const checkOn = sets.training.slice(DISTILL_BRIEFS, DISTILL_BRIEFS + DISTILL_BRIEFS / 8);
    assert.ok(checkOn.length > 0 && checkOn.every((b) => !learnFrom.has(briefKey(b))));
  });

  it('runs an offline shadow evaluation on distinct briefs: duplicates dropped, fresh held-out briefs drawn (never a training brief) when more are asked for', () => {
    const text = localBrief('warm amber and benzoin for winter, no patchouli');
    const set = [text, { ...text, language: 'ko' as const }, localBrief('fig and cedar, woody and green')];
    const few = offlineBriefs(set, 2);
    assert.deepEqual([few.briefs.length, few.fromSet, few.drawn, few.duplicatesDropped], [2, 2, 0, 1]);
    const many = offlineBriefs(set, 60);
    assert.deepEqual([many.briefs.length, many.fromSet, many.drawn], [60, 2, 58]);
    assert.equal(keys(many.briefs).size, 60, 'each brief compared once');
    assert.deepEqual(many.briefs.filter((b) => trainingKeys.has(briefKey(b))), []);
    assert.deepEqual(offlineBriefs(set, 60).briefs, many.briefs, 'seeded: the same draw every time');
  });
});
