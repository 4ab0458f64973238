import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlockError, BlockStore, CloudHub, EmbeddedMetadataStore } from '../../src/hub/index.ts';
import { configHash, decodeCheckpoint, encodeCheckpoint, evaluatePolicy, FormulationEnv, loadCheckpoint, Mlp, PpoTrainer, Random, saveCheckpoint, TRAINING_BRIEFS } from '../../src/learning/index.ts';
import { localBrief } from '../../src/llm/index.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'fai-ckpt-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const hubIn = (dir: string) => new CloudHub({ blocks: new BlockStore(join(dir, 'blocks')), metadata: new EmbeddedMetadataStore(join(dir, 'meta')) });
const world = new FormulationEnv().world;
const meta = { algorithm: 'ppo' as const, configHash: configHash({ seed: 7, episodes: 64 }), evaluationReturn: 12.5, world };

describe('policy checkpoints', () => {
  it('round-trip through the Cloud Hub: same weights, same actions, metadata in the record', async () => {
    const env = new FormulationEnv();
    const briefs = TRAINING_BRIEFS.map(localBrief);
    const trainer = new PpoTrainer({ env, briefs, seed: 5, hidden: 32 });
    trainer.train(64);
    const hub = hubIn(join(root, 'roundtrip'));
    const record = await saveCheckpoint(hub, trainer.policy, meta);
    assert.equal(record.data_type, 'checkpoint');
    assert.ok(record.tags.includes('algorithm:ppo') && record.tags.includes(`shape:${trainer.policy.sizes.join('-')}`) && record.tags.includes('return:12.500'));
    const loaded = await loadCheckpoint(hub, record.cid, env.world);
    assert.deepEqual(loaded.meta, { ...meta, shape: [...trainer.policy.sizes], inputs: env.stateSize, actionFeatures: [...trainer.policy.actionFeatures] });
    assert.deepEqual(loaded.net.head, trainer.policy.head);
    for (let l = 0; l < trainer.policy.weights.length; l++) {
      assert.deepEqual(loaded.net.weights[l], trainer.policy.weights[l]);
      assert.deepEqual(loaded.net.biases[l], trainer.policy.biases[l]);
    }
    const state = env.encode(env.prepare(briefs[0]!), new Map(), 0);
    assert.deepEqual(loaded.net.forward(state).at(-1), trainer.policy.forward(state).at(-1));
    // The same policy stored again is the same object (content addressing).
    assert.equal((await saveCheckpoint(hub, trainer.policy, meta)).cid, record.cid);
    await hub.close();
  });

  it('refuses a checkpoint whose block was altered on disk (CID verified on load)', async () => {
    const dir = join(root, 'tampered');
    const hub = hubIn(dir);
    const record = await saveCheckpoint(hub, new Mlp([6, 4, 3], new Random(2)), meta);
    const files = (await readdir(join(dir, 'blocks'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    assert.ok(files.length >= 1);
    for (const entry of files) {
      const path = join(entry.parentPath, entry.name);
      const bytes = await readFile(path);
      bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0x55;
      await writeFile(path, bytes);
    }
    await assert.rejects(loadCheckpoint(hub, record.cid), (e: unknown) => e instanceof BlockError && e.errorType === 'hash_mismatch');
    await hub.close();
  });

  it('rejects bytes that are not a checkpoint, a truncated one, a bad header and non-finite weights, naming the problem', () => {
    const good = encodeCheckpoint(new Mlp([3, 2], new Random(1)), meta);
    const fails = (bytes: Uint8Array, pattern: RegExp) => assert.throws(() => decodeCheckpoint(bytes), (e: Error) => pattern.test(e.message) && (e as { code?: string }).code === 'FAI_ERR_VALIDATION');
    fails(new TextEncoder().encode('{"weights": []}'), /not a policy checkpoint/);
    fails(good.slice(0, good.length - 4), /needs 8 weights/);
    const badHeader = Buffer.from(good);
    badHeader.write('X', 12 + badHeader.toString('utf8', 12).indexOf('ppo'), 'utf8');
    fails(badHeader, /header/);
    const nan = Buffer.from(good);
    nan.writeFloatLE(Number.NaN, nan.length - 4);
    fails(nan, /non-finite/);
    assert.equal(decodeCheckpoint(good).net.sizes.join('-'), '3-2');
  });

  it('knows its world: a checkpoint made for another palette order, state layout or reward is refused, naming what changed', () => {
    const bytes = encodeCheckpoint(new Mlp([3, 2], new Random(1)), meta);
    assert.equal(decodeCheckpoint(bytes, world).net.sizes.join('-'), '3-2');
    const refused = (other: typeof world, pattern: RegExp) => assert.throws(() => decodeCheckpoint(bytes, other), (e: Error) => pattern.test(e.message) && /retrain/.test(e.message));
    refused({ ...world, palette: '0123456789abcdef' }, /the palette \(its materials or their order/);
    refused({ ...world, stateLayout: '0123456789abcdef' }, /the state layout/);
    refused({ ...world, reward: 'character-1' }, /the reward changed/);
    // Reordering one palette row changes the world.
    const env = new FormulationEnv();
    const swapped = [...env.palette];
    [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
    assert.notEqual(new FormulationEnv({ palette: swapped }).world.palette, env.world.palette);
    // A checkpoint of the format before worlds is refused, saying why.
    const old = Buffer.from(bytes);
    old.write('FAICKPT1', 0, 'ascii');
    assert.throws(() => decodeCheckpoint(old), /FAICKPT1.*retrain/);
  });

  it('checks the file length against the header before allocating anything: a short file claiming a huge net is refused at once', () => {
    const header = Buffer.from(JSON.stringify({ ...meta, shape: [542, 200000, 170], inputs: 542, actionFeatures: [] }));
    const bytes = Buffer.alloc(12 + header.length);
    bytes.write('FAICKPT2', 0, 'ascii');
    bytes.writeUInt32LE(header.length, 8);
    header.copy(bytes, 12);
    const started = performance.now();
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => decodeCheckpoint(bytes), /needs 142600170 weights, the file holds 0/);
    assert.ok(performance.now() - started < 200, `refused in ${performance.now() - started} ms`);
    assert.ok(process.memoryUsage().arrayBuffers - before < 10 * 2 ** 20, 'nothing the size of the claimed net was allocated');
    const long = Buffer.alloc(16);
    long.write('FAICKPT2', 0, 'ascii');
    long.writeUInt32LE(2 ** 31, 8);
    assert.throws(() => decodeCheckpoint(long), /longer than any checkpoint's/);
  });

  it('hashes a configuration independently of key order', () => {
    assert.equal(configHash({ a: 1, b: { c: 2, d: 3 } }), configHash({ b: { d: 3, c: 2 }, a: 1 }));
    assert.notEqual(configHash({ a: 1 }), configHash({ a: 2 }));
  });
});

describe('evaluatePolicy', () => {
  it('gives a mean with a 95 % interval over fixed seeds, the same on every run, higher for a trained policy', () => {
    const env = new FormulationEnv();
    const briefs = TRAINING_BRIEFS.map(localBrief).slice(0, 3);
    const untrained = new PpoTrainer({ env, briefs, seed: 7, hidden: 32 });
    const before = evaluatePolicy(untrained.policy, env, briefs, 4, 4);
    assert.deepEqual(evaluatePolicy(untrained.policy, env, briefs, 4, 4), before);
    assert.equal(before.episodes, 4 * 3 * 4);
    assert.ok(before.ci95 > 0 && Number.isFinite(before.ci95));
    untrained.train(256);
    const afterTraining = evaluatePolicy(untrained.policy, env, briefs, 4, 4);
    assert.ok(afterTraining.mean > before.mean, `trained ${afterTraining.mean} vs untrained ${before.mean}`);
    assert.throws(() => evaluatePolicy(untrained.policy, env, briefs, 1), /at least 2 seeds/);
  });
});
