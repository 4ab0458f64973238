import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlockStore, CloudHub, EmbeddedMetadataStore } from '../../src/hub/index.ts';
import { decodeCheckpoint, FEEDBACK_WEIGHT, FormulationEnv, greedy, Random, replayFeedback, runTraining, TRAINING_BRIEFS } from '../../src/learning/index.ts';
import { localBrief } from '../../src/llm/index.ts';

let dir: string;
let hub: CloudHub;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fai-feedback-'));
  hub = new CloudHub({ blocks: new BlockStore(join(dir, 'blocks')), metadata: new EmbeddedMetadataStore(join(dir, 'meta')) });
});
after(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

const env = new FormulationEnv();
const briefs = TRAINING_BRIEFS.map(localBrief);
const served = (...materials: string[]) => ({ brief: {}, formula: materials.map((material) => ({ material, concentrationPct: 100 / materials.length })) });

describe('customer feedback replayed as a reward signal', () => {
  it('turns ratings of served recipes into per-material preferences, skipping what it cannot trust', async () => {
    const liked = await hub.storeJson('recipe', served('Bergamot oil', 'Vanillin'));
    const disliked = await hub.storeJson('recipe', served('Vanillin', 'Patchouli oil'));
    const notServed = await hub.storeJson('recipe', { name: 'a recipe without a formula' });
    await hub.storeJson('feedback', { recipeCid: liked.cid, rating: 5, text: '', preferredNotes: [], dislikedAspects: [] });
    await hub.storeJson('feedback', { recipeCid: disliked.cid, rating: 1, text: 'too earthy', preferredNotes: [], dislikedAspects: ['the patchouli oil'] });
    await hub.storeJson('feedback', { recipeCid: notServed.cid, rating: 4, text: '', preferredNotes: [], dislikedAspects: [] });
    await hub.storeJson('feedback', { recipeCid: 'not a cid', rating: 9 });
    await hub.storeJson('feedback', { recipeCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', rating: 3, text: '', preferredNotes: [], dislikedAspects: [] });
    const replay = await replayFeedback(hub);
    assert.equal(replay.used, 2);
    assert.equal(replay.skipped.length, 3, JSON.stringify(replay.skipped));
    // Bergamot: one 5 → score 1, shrunk by 1/(1+1) → 0.5. Vanillin: 5 and 1 → mean 0 → 0.
    // Patchouli: rating 1 (−1) and named as disliked (−1) → mean −1 over 2 → −1 × 2/3.
    assert.deepEqual(replay.preferences, { 'Bergamot oil': 0.5, 'Patchouli oil': -0.667, Vanillin: 0 });
  });

  it('adds FEEDBACK_WEIGHT × Σ share × preference to the reward, and nothing without feedback', () => {
    const i = env.palette.findIndex((m) => m.name === 'Bergamot oil');
    const j = env.palette.findIndex((m) => m.name === 'Vanillin');
    assert.ok(i >= 0 && j >= 0);
    const units = new Map([[i, 3], [j, 1]]);
    const withFeedback = new FormulationEnv({ preferences: new Map([['Bergamot oil', 0.5], ['Vanillin', -1]]) });
    const composition = env.compose(env.prepare(briefs[0]!), units);
    const plain = env.reward(env.prepare(briefs[0]!), composition);
    const rated = withFeedback.reward(withFeedback.prepare(briefs[0]!), composition);
    assert.equal(plain.feedback, 0);
    // Shares of the composed formula (the composer adds what the brief needs beside the two picks).
    const lines = composition.lines;
    const shareOf = (index: number) => (lines.find((l) => l.index === index)?.pct ?? 0) / 100;
    assert.ok(shareOf(i) > 0);
    assert.ok(Math.abs(rated.feedback - FEEDBACK_WEIGHT * (shareOf(i) * 0.5 + shareOf(j) * -1)) <= 0.001, `${rated.feedback}`);
    assert.equal(Math.round((rated.total - plain.total) * 1000) / 1000, rated.feedback);
  });

  it('trains a policy away from a material customers disliked (same seed and budget, with and without the feedback)', () => {
    const share = (checkpoint: Uint8Array, material: number) => {
      const { net } = decodeCheckpoint(checkpoint);
      let sum = 0;
      for (const brief of briefs) {
        const { units } = env.episode(env.prepare(brief), (state) => greedy(net, state), new Random(1));
        const total = [...units.values()].reduce((a, b) => a + b, 0);
        sum += total === 0 ? 0 : (units.get(material) ?? 0) / total;
      }
      return sum / briefs.length;
    };
    const spec = { algo: 'ppo' as const, episodes: 960, seed: 5, fromFeedback: false };
    // A small policy: the feedback's effect on training is what is tested, not the shipped teacher's size.
    const plain = runTraining(spec, { teacherHidden: 32 });
    // The material the plain policy leans on most.
    const { net } = decodeCheckpoint(plain.checkpoint);
    const use = new Map<number, number>();
    for (const brief of briefs) for (const [i, u] of env.episode(env.prepare(brief), (state) => greedy(net, state), new Random(1)).units) use.set(i, (use.get(i) ?? 0) + u);
    const favourite = [...use].sort((a, b) => b[1] - a[1])[0]![0];
    const name = env.palette[favourite]!.name;
    const rated = runTraining({ ...spec, fromFeedback: true }, { preferences: { [name]: -1 }, teacherHidden: 32 });
    const before = share(plain.checkpoint, favourite);
    const after = share(rated.checkpoint, favourite);
    assert.equal(rated.summary.feedbackMaterials, 1);
    assert.ok(after < before / 2, `${name}: mean share ${before.toFixed(3)} without feedback, ${after.toFixed(3)} with it`);
  });
});
