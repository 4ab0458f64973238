import assert from 'node:assert/strict';
import { readdir, readFile, writeFile, mkdtemp, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NextToLast } from 'blockstore-fs/sharding';
import { BlockError, BlockStore, CloudHub, EmbeddedMetadataStore, parseCid, rawCid } from '../../src/hub/index.ts';
import { catalogue, createMetrics, readHistogram, readSamples } from '../../src/metrics/index.ts';

/** The series a counter has moved (the service starts every enumerable series at 0). */
const counted = async (metrics: ReturnType<typeof createMetrics>, def: Parameters<typeof readSamples>[1]) => (await readSamples(metrics.registry, def)).filter((s) => s.value > 0);
import type { FaiError } from '../../src/errors/index.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'fai-hub-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
function setup(options: { now?: () => number; gcGraceMs?: number } = {}) {
  const dir = join(root, `hub-${n++}`);
  const metrics = createMetrics({ defaultMetrics: false });
  const make = () =>
    new CloudHub({ blocks: new BlockStore(join(dir, 'blocks')), metadata: new EmbeddedMetadataStore(join(dir, 'meta'), options.now), metrics, now: options.now, gcGraceMs: options.gcGraceMs ?? 0 });
  return { dir, metrics, hub: make(), reopen: make };
}

async function blockFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  return out;
}

const recipe = { name: 'Summer sea', formula: [{ material: 'Calone', concentrationPct: 0.5 }, { material: 'Hedione', concentrationPct: 20 }] };

describe('CloudHub (embedded store)', () => {
  it('stores and restores a recipe under its dag-json CID, with its record', async () => {
    const { hub, metrics } = setup();
    const record = await hub.storeJson('recipe', recipe, ['summer']);
    assert.match(record.cid, /^baguqeera/);
    assert.deepEqual([record.data_type, record.tags, record.pinned], ['recipe', ['summer'], false]);
    assert.match(record.checksum, /^[0-9a-f]{64}$/);
    const back = await hub.retrieve(record.cid);
    assert.deepEqual(back.value, recipe);
    const ops = Object.fromEntries((await counted(metrics, catalogue.ipfsOperationsTotal)).map((s) => [s.labels.operation, s.value]));
    assert.deepEqual(ops, { store: 1, retrieve: 1 });
    const [latency] = await readHistogram(metrics.registry, catalogue.ipfsRestoreLatencySeconds);
    assert.deepEqual([latency?.labels, latency?.count], [{ data_type: 'recipe' }, 1]);
    await hub.close();
  });

  it('stores a checkpoint as a UnixFS file and restores the same bytes', async () => {
    const { hub } = setup();
    const bytes = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) % 256);
    const record = await hub.storeBytes(bytes, ['ppo']);
    assert.equal(record.size, bytes.length);
    assert.equal(parseCid(record.cid).code, 0x70);
    const back = await hub.retrieve(record.cid);
    assert.equal(Buffer.compare(Buffer.from(back.bytes!), Buffer.from(bytes)), 0);
    await hub.close();
  });

  it('stores the same object from many concurrent requests (one record, no write colliding with another)', async () => {
    const { hub } = setup();
    const records = await Promise.all(Array.from({ length: 20 }, () => hub.storeJson('recipe', { name: 'same recipe, served twenty times at once' })));
    assert.equal(new Set(records.map((r) => r.cid)).size, 1);
    assert.equal((await hub.list('recipe')).length, 1);
    await hub.close();
  });

  it('keeps records across a restart (nothing lost on close and reopen)', async () => {
    const { hub, reopen } = setup();
    const record = await hub.storeJson('feedback', { rating: 5 });
    await hub.close();
    const again = reopen();
    assert.deepEqual((await again.retrieve(record.cid)).value, { rating: 5 });
    await again.close();
  });

  it('detects a block corrupted on disk, counts it, and never returns the data', async () => {
    const { hub, dir, metrics } = setup();
    const record = await hub.storeJson('recipe', recipe);
    const [file] = await blockFiles(join(dir, 'blocks'));
    const original = await readFile(file!);
    original[original.length - 2] = (original[original.length - 2] ?? 0) ^ 0xff;
    await writeFile(file!, original);
    await assert.rejects(hub.retrieve(record.cid), (e: unknown) => e instanceof BlockError && e.errorType === 'hash_mismatch' && e.code === 'FAI_ERR_INTEGRITY');
    const errors = await counted(metrics, catalogue.ipfsCidErrorsTotal);
    assert.deepEqual(errors.map((s) => [s.labels.error_type, s.value]), [['hash_mismatch', 1]]);
    await hub.close();
  });

  it('counts a malformed CID and an unknown object as errors with a type', async () => {
    const { hub, metrics } = setup();
    await assert.rejects(hub.retrieve('bafy-not-a-cid'), (e: unknown) => e instanceof BlockError && e.code === 'FAI_ERR_VALIDATION');
    await assert.rejects(hub.retrieve((await rawCid(new TextEncoder().encode('nope'))).toString()), (e: unknown) => e instanceof BlockError && e.code === 'FAI_ERR_NOT_FOUND');
    const errors = Object.fromEntries((await counted(metrics, catalogue.ipfsCidErrorsTotal)).map((s) => [s.labels.error_type, s.value]));
    assert.deepEqual(errors, { malformed_cid: 1, missing_block: 1 });
    await hub.close();
  });

  it('expires records after their time to live unless pinned, and lists by type through its index', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const { hub } = setup({ now: () => now });
    const feedback = await hub.storeJson('feedback', { rating: 4 });
    const kept = await hub.storeJson('feedback', { rating: 2 });
    const recipeRecord = await hub.storeJson('recipe', recipe);
    await hub.pin(kept.cid);
    assert.deepEqual((await hub.list('feedback')).map((r) => r.cid).sort(), [feedback.cid, kept.cid].sort());
    now += 31 * 86_400_000; // feedback lives 30 days, recipes 365
    assert.deepEqual((await hub.list('feedback')).map((r) => r.cid), [kept.cid], 'the pinned one stays');
    await assert.rejects(hub.retrieve(feedback.cid), (e: unknown) => e instanceof BlockError && e.errorType === 'missing_block');
    assert.equal((await hub.list('recipe'))[0]?.cid, recipeRecord.cid);
    // Unpinned, its time to live counts from creation: already past, so it expires within a second.
    await hub.unpin(kept.cid);
    now += 2_000;
    assert.deepEqual(await hub.list('feedback'), []);
    await hub.close();
  });

  it('collects blocks no live record reaches, and keeps pinned and live ones', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const { hub, dir } = setup({ now: () => now });
    const old = await hub.storeJson('feedback', { rating: 1 });
    const pinned = await hub.storeBytes(new Uint8Array(2 * 1024 * 1024 + 5).map((_, i) => i % 253));
    await hub.pin(pinned.cid);
    const live = await hub.storeJson('recipe', recipe);
    const orphan = await rawCid(new TextEncoder().encode('orphan'));
    await new BlockStore(join(dir, 'blocks')).put(orphan, new TextEncoder().encode('orphan'));
    // Every block written a minute ago by the file clock: gc spares blocks written within a second of its start (a store in flight).
    for (const file of await blockFiles(join(dir, 'blocks'))) await utimes(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    now += 40 * 86_400_000;
    const result = await hub.gc();
    assert.deepEqual(result, { kept: 1 + 4, removed: 2, spared: 0, tempRemoved: 0 }, 'recipe + checkpoint root and 3 leaves kept; expired feedback and orphan removed');
    assert.deepEqual((await hub.retrieve(live.cid)).value, recipe);
    assert.equal((await hub.retrieve(pinned.cid)).bytes?.length, 2 * 1024 * 1024 + 5);
    await assert.rejects(hub.retrieve(old.cid));
    await hub.close();
  });

  it('never guesses: a block of a pinned checkpoint it cannot read (EMFILE, then a corrupt block) aborts gc before the sweep, removes nothing, and is counted', async () => {
    const { hub, dir, metrics } = setup();
    const bytes = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251);
    const pinned = await hub.storeBytes(bytes);
    await hub.pin(pinned.cid);
    const orphan = await rawCid(new TextEncoder().encode('orphan'));
    await new BlockStore(join(dir, 'blocks')).put(orphan, new TextEncoder().encode('orphan'));
    for (const file of await blockFiles(join(dir, 'blocks'))) await utimes(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const before = (await blockFiles(join(dir, 'blocks'))).sort();
    const blocks = (hub as unknown as { blocks: BlockStore }).blocks;
    const links = blocks.links.bind(blocks);
    // One injected EMFILE on the root's read.
    let injected = 0;
    blocks.links = async (cid) => {
      if (injected++ === 0) throw new BlockError('io', 'cannot read block: EMFILE: too many open files', { cause: Object.assign(new Error('EMFILE'), { code: 'EMFILE' }) });
      return links(cid);
    };
    await assert.rejects(hub.gc(), (error: FaiError) => error.code === 'FAI_ERR_UNAVAILABLE' && /gc aborted before its sweep, nothing removed/.test(error.message));
    assert.deepEqual((await blockFiles(join(dir, 'blocks'))).sort(), before, 'not one block removed, not even the orphan');
    // A corrupt root block: same.
    blocks.links = links;
    const { dir: shard, file } = new NextToLast().encode(parseCid(pinned.cid));
    const rootFile = join(dir, 'blocks', shard, file);
    await writeFile(rootFile, Buffer.from('not the bytes of the root'));
    await utimes(rootFile, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await assert.rejects(hub.gc(), (error: FaiError) => error.code === 'FAI_ERR_INTEGRITY' && /nothing removed/.test(error.message));
    assert.deepEqual((await blockFiles(join(dir, 'blocks'))).sort(), before);
    const runs = Object.fromEntries((await counted(metrics, catalogue.hubGcRunsTotal)).map((s) => [s.labels.outcome, s.value]));
    assert.equal(runs.aborted, 2);
    assert.equal(runs.completed ?? 0, 0);
    await hub.close();
  });

  it('loses no pin to a store of the same content racing it: 0 of 150 pins lost (a per-record lock), even across two hubs on one directory', async () => {
    const { hub, reopen, dir } = setup();
    const other = reopen();
    const recipes = Array.from({ length: 150 }, (_, i) => ({ name: `race ${i}`, formula: [{ material: 'Iso E Super', concentrationPct: i / 10 }] }));
    const first = await Promise.all(recipes.map((r) => hub.storeJson('recipe', r, ['first'])));
    await Promise.all(first.map((record, i) => Promise.all([(i % 2 === 0 ? hub : other).storeJson('recipe', recipes[i], [`again-${i}`]), new Promise((resolve) => setTimeout(resolve, (i % 12) / 2)).then(() => hub.pin(record.cid))])));
    let lost = 0;
    for (const record of first) {
      const stored = JSON.parse(await readFile(join(dir, 'meta', `${record.cid}.json`), 'utf8')) as { record: { pinned: boolean; tags: string[] }; expiresAt: number | null };
      if (!stored.record.pinned || stored.expiresAt !== null) lost++;
    }
    assert.equal(lost, 0, 'pins lost (answered pinned: true, on disk unpinned or with an expiry)');
    const seven = JSON.parse(await readFile(join(dir, 'meta', `${first[7]!.cid}.json`), 'utf8')) as { record: { tags: string[] } };
    assert.deepEqual([...seven.record.tags].sort(), ['again-7', 'first']);
    assert.deepEqual((await readdir(join(dir, 'meta'))).filter((f) => !f.endsWith('.json')), [], 'no lock or temporary file left behind');
    await hub.close();
    await other.close();
  });

  it('loses no acknowledged store to a gc running beside the writers (the store is tracked until its record is written)', async () => {
    // No grace: only the hub's own tracking of its stores in flight keeps their blocks (the repro lost 13.4 %).
    const { hub } = setup({ gcGraceMs: 0 });
    const acknowledged: string[] = [];
    let writing = true;
    const writer = async (w: number) => {
      for (let i = 0; i < 150; i++) acknowledged.push((await hub.storeJson('recipe', { writer: w, i, note: 'gc race' })).cid);
    };
    const collector = async () => {
      let runs = 0;
      while (writing || runs === 0) {
        await hub.gc();
        runs++;
      }
      return runs;
    };
    const collecting = collector();
    await Promise.all([0, 1, 2, 3].map(writer));
    writing = false;
    assert.ok((await collecting) > 1, 'gc ran during the writes');
    const lost = [];
    for (const cid of acknowledged) if (!(await hub.retrieve(cid).then(() => true, () => false))) lost.push(cid);
    assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged objects lost`);
    await hub.close();
  });

  it("spares a block younger than the grace (another process's store in flight), collects it once older, and removes stale temp files", async () => {
    const { hub, dir } = setup({ gcGraceMs: 60_000 });
    const blocks = new BlockStore(join(dir, 'blocks'));
    const young = await rawCid(new TextEncoder().encode('young orphan'));
    await blocks.put(young, new TextEncoder().encode('young orphan'));
    const old = await rawCid(new TextEncoder().encode('old orphan'));
    await blocks.put(old, new TextEncoder().encode('old orphan'));
    const anHourAgo = new Date(Date.now() - 3_600_000);
    // The old orphan and a temp file a killed write left behind, both last written an hour ago.
    const encoded = new NextToLast().encode(old);
    await utimes(join(dir, 'blocks', encoded.dir, encoded.file), anHourAgo, anHourAgo);
    const tmp = join(dir, 'blocks', encoded.dir, `.${encoded.file}.tmp`);
    await writeFile(tmp, 'half a block');
    await utimes(tmp, anHourAgo, anHourAgo);
    const youngTmp = join(dir, 'blocks', encoded.dir, '.write-in-flight.data.tmp');
    await writeFile(youngTmp, 'being written');
    const result = await hub.gc();
    assert.deepEqual(result, { kept: 0, removed: 1, spared: 1, tempRemoved: 1 });
    assert.equal(await blocks.has(young), true);
    assert.equal(await blocks.has(old), false);
    assert.equal(await stat(youngTmp).then(() => true, () => false), true, 'a young temp file may be a write in flight');
    await blocks.close();
    await hub.close();
  });

  it('fails a restore that takes longer than its timeout with a typed error, counted', async () => {
    const dir = join(root, `hub-${n++}`);
    const metrics = createMetrics({ defaultMetrics: false });
    const hub = new CloudHub({ blocks: new BlockStore(join(dir, 'blocks')), metadata: new EmbeddedMetadataStore(join(dir, 'meta')), metrics, restoreTimeoutMs: 1 });
    const record = await hub.storeBytes(new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 131) % 255));
    await assert.rejects(hub.retrieve(record.cid), (e: unknown) => e instanceof BlockError && e.errorType === 'timeout' && e.code === 'FAI_ERR_TIMEOUT');
    const errors = await counted(metrics, catalogue.ipfsCidErrorsTotal);
    assert.deepEqual(errors.map((s) => [s.labels.error_type, s.value]), [['timeout', 1]]);
    // The failed restore's time is in the restore latency histogram (the latency alert sees slow failures), but it is not a retrieve.
    const latency = await readHistogram(metrics.registry, catalogue.ipfsRestoreLatencySeconds);
    assert.deepEqual(latency.map((h) => [h.labels.data_type, h.count]), [['checkpoint', 1]]);
    const operations = await counted(metrics, catalogue.ipfsOperationsTotal);
    assert.deepEqual(operations.map((s) => [s.labels.operation, s.value]), [['store', 1]]);
    await hub.close();
  });

  it('reports an unusable directory as a storage error naming it', async () => {
    const file = join(root, 'not-a-directory');
    await writeFile(file, 'x');
    assert.ok((await stat(file)).isFile());
    const metrics = createMetrics({ defaultMetrics: false });
    const hub = new CloudHub({ blocks: new BlockStore(join(file, 'blocks')), metadata: new EmbeddedMetadataStore(join(file, 'meta')), metrics });
    await assert.rejects(hub.storeJson('recipe', recipe), (e: unknown) => e instanceof Error && 'code' in e && e.code === 'FAI_ERR_STORAGE' && /not-a-directory/.test(e.message));
    // A store that failed is not counted as a store.
    assert.deepEqual(await counted(metrics, catalogue.ipfsOperationsTotal), []);
  });
});
