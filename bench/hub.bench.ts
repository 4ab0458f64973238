/**
 * Cloud Hub store and restore: ops/s and p50/p95/p99 latency for a 10 KB recipe and a 5 MB
 * checkpoint, with the embedded metadata store and with a real Redis, side by side with a
 * baseline that writes and reads the same bytes as plain files (no hashing, no metadata).
 * Target: restore p95 ≤ 5 ms for a 10 KB recipe, embedded.
 *
 * Also: the cost of durable blocks (our fsynced put) beside blockstore-fs's unsynced put.
 *
 * Many hosts (issue 25): what instance A stores, instance B restores — with the blocks in a shared
 * S3-compatible store (s3rver, its own process) beside the local block directory, records in one
 * Redis, in one run. Goals, p95 of a restore on B: 10 KB recipe ≤ 50 ms, 5 MiB ≤ 1 s, 50 MiB ≤ 5 s.
 *
 *   make bench-hub        (needs redis-server for the Redis column; `make system-deps` installs it)
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlockstore } from 'blockstore-fs';
import { NextToLast } from 'blockstore-fs/sharding';
import { BlockStore, CloudHub, connectRedis, EmbeddedMetadataStore, rawCid, redisReady, RedisMetadataStore } from '../src/hub/index.ts';
import { S3BlockBackend } from '../src/hub/s3-blocks.ts';
import { startRedis, startS3 } from '../test/helpers/servers.ts';

type Stats = { opsPerSecond: number; p50: number; p95: number; p99: number };

function stats(samplesMs: number[], totalMs: number): Stats {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { opsPerSecond: (samplesMs.length * 1000) / totalMs, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

async function time<T>(count: number, run: (i: number) => Promise<T>): Promise<{ stats: Stats; results: T[] }> {
  const samples: number[] = [];
  const results: T[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    results.push(await run(i));
    samples.push(performance.now() - t);
  }
  return { stats: stats(samples, performance.now() - start), results };
}

/** A 10 KB recipe, different for each i so every store writes a new block. */
function recipe(i: number): Record<string, unknown> {
  const formula = Array.from({ length: 120 }, (_, k) => ({ material: `Material ${(i * 7 + k) % 170}`, concentrationPct: ((i + k) % 97) / 10, note: 'heart' }));
  return { id: i, name: `Recipe ${i}`, brief: 'a warm amber for winter evenings', formula };
}

/** 5 MB of pseudo-random bytes (xorshift32), like trained weights: no two chunks alike. */
function checkpoint(i: number): Uint8Array {
  const words = new Uint32Array((5 * 1024 * 1024) / 4);
  let x = 0x9e3779b9 ^ (i + 1);
  for (let k = 0; k < words.length; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[k] = x >>> 0;
  }
  return new Uint8Array(words.buffer);
}

const RECIPES = 1_000;
const CHECKPOINT_STORES = 10;
const CHECKPOINT_RESTORES = 20;

async function measureHub(label: string, hub: CloudHub): Promise<Record<string, Stats>> {
  const storedRecipes = await time(RECIPES, (i) => hub.storeJson('recipe', recipe(i)));
  const restoredRecipes = await time(RECIPES, (i) => hub.retrieve(storedRecipes.results[(i * 7919) % RECIPES]!.cid));
  const storedCheckpoints = await time(CHECKPOINT_STORES, (i) => hub.storeBytes(checkpoint(i)));
  const restoredCheckpoints = await time(CHECKPOINT_RESTORES, (i) => hub.retrieve(storedCheckpoints.results[i % CHECKPOINT_STORES]!.cid));
  console.error(`  ${label} done`);
  return { 'recipe store': storedRecipes.stats, 'recipe restore': restoredRecipes.stats, 'checkpoint store': storedCheckpoints.stats, 'checkpoint restore': restoredCheckpoints.stats };
}

async function measureFiles(dir: string): Promise<Record<string, Stats>> {
  const recipes = Array.from({ length: RECIPES }, (_, i) => new TextEncoder().encode(JSON.stringify(recipe(i))));
  const store = await time(RECIPES, (i) => writeFile(join(dir, `r${i}`), recipes[i]!));
  const restore = await time(RECIPES, (i) => readFile(join(dir, `r${(i * 7919) % RECIPES}`)).then((b) => JSON.parse(b.toString())));
  const cStore = await time(CHECKPOINT_STORES, (i) => writeFile(join(dir, `c${i}`), checkpoint(i)));
  const cRestore = await time(CHECKPOINT_RESTORES, (i) => readFile(join(dir, `c${i % CHECKPOINT_STORES}`)));
  return { 'recipe store': store.stats, 'recipe restore': restore.stats, 'checkpoint store': cStore.stats, 'checkpoint restore': cRestore.stats };
}

const root = await mkdtemp(join(tmpdir(), 'fai-bench-hub-'));
console.error('measuring (recipe ≈ 10 KB ×1000, checkpoint 5 MB ×10 stores / ×20 restores)…');
await mkdir(join(root, 'files'));
const files = await measureFiles(join(root, 'files'));
const embeddedHub = new CloudHub({ blocks: new BlockStore(join(root, 'embedded', 'blocks')), metadata: new EmbeddedMetadataStore(join(root, 'embedded', 'meta')) });
const embedded = await measureHub('embedded', embeddedHub);
await embeddedHub.close();
const redisServer = await startRedis({ persistent: true });
const client = connectRedis(redisServer.url);
const redisHub = new CloudHub({ blocks: new BlockStore(join(root, 'redis', 'blocks')), metadata: new RedisMetadataStore(client) });
const withRedis = await measureHub('redis', redisHub);
await redisHub.close();
client.disconnect();
await redisServer.stop();
await rm(root, { recursive: true, force: true });

// The cost of durable blocks: our put (fsync the block, rename, fsync the directory) beside
// blockstore-fs's own put (steno's rename, no fsync) of the same blocks, in one run.
async function measureDurability(dir: string): Promise<Record<string, [Stats, Stats]>> {
  const ours = new BlockStore(join(dir, 'ours'));
  const theirs = new FsBlockstore(join(dir, 'theirs'), { shardingStrategy: new NextToLast() });
  await theirs.open();
  const out: Record<string, [Stats, Stats]> = {};
  for (const [label, count, make] of [
    ['10 KB block put', RECIPES, (i: number) => new TextEncoder().encode(JSON.stringify(recipe(i)))],
    ['1 MiB block put', 50, (i: number) => checkpoint(i).subarray(0, 1024 * 1024)],
  ] as const) {
    const blocks = await Promise.all(Array.from({ length: count }, async (_, i) => {
      const bytes = make(i);
      return { cid: await rawCid(bytes), bytes };
    }));
    const durable = await time(count, (i) => ours.put(blocks[i]!.cid, blocks[i]!.bytes));
    const plain = await time(count, (i) => theirs.put(blocks[i]!.cid, blocks[i]!.bytes));
    out[label] = [plain.stats, durable.stats];
  }
  await ours.close();
  await theirs.close();
  return out;
}
const durability = await measureDurability(await mkdtemp(join(tmpdir(), 'fai-bench-blocks-')));

const fmt = (s: Stats) => `${Math.round(s.opsPerSecond).toLocaleString('en')}/s  p50 ${s.p50.toFixed(2)}  p95 ${s.p95.toFixed(2)}  p99 ${s.p99.toFixed(2)} ms`;
const rows = [['operation', 'plain files (baseline)', 'hub, embedded metadata', 'hub, Redis metadata (AOF fsync always)', 'embedded p95 / files p95', 'Redis p95 / embedded p95']];
for (const op of Object.keys(embedded)) {
  rows.push([op, fmt(files[op]!), fmt(embedded[op]!), fmt(withRedis[op]!), (embedded[op]!.p95 / files[op]!.p95).toFixed(1), (withRedis[op]!.p95 / embedded[op]!.p95).toFixed(2)]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
console.log(`\ntarget: recipe restore p95 ≤ 5 ms embedded; measured ${embedded['recipe restore']!.p95.toFixed(2)} ms`);

console.log('\nthe cost of durable blocks (fsync the block, rename, fsync its directory) against blockstore-fs\'s put (no fsync):');
const durableRows = [['block', 'blockstore-fs put (baseline)', 'durable put', 'p50 ratio', 'ops/s ratio']];
for (const [label, [plain, durable]] of Object.entries(durability)) {
  durableRows.push([label, fmt(plain), fmt(durable), `×${(durable.p50 / plain.p50).toFixed(2)}`, `×${(durable.opsPerSecond / plain.opsPerSecond).toFixed(2)}`]);
}
const durableWidths = durableRows[0]!.map((_, c) => Math.max(...durableRows.map((r) => r[c]!.length)));
for (const row of durableRows) console.log(row.map((cell, c) => cell.padEnd(durableWidths[c]!)).join('  '));

// Many hosts: A stores, B restores (two hubs, each with its own connections), blocks local or shared.
function bigCheckpoint(i: number, mib: number): Uint8Array {
  const out = new Uint8Array(mib * 1024 * 1024);
  for (let at = 0; at < mib; at += 5) out.set(checkpoint(i * 100 + at).subarray(0, Math.min(5, mib - at) * 1024 * 1024), at * 1024 * 1024);
  return out;
}
const SHARED = { recipes: 200, small: { stores: 10, restores: 20 }, large: { stores: 2, restores: 5 } };
async function measureShared(label: string, blocks: () => BlockStore, redisUrl: string): Promise<Record<string, Stats & { mbPerSecond?: number }>> {
  const open = async () => {
    const client = connectRedis(redisUrl);
    await redisReady(client, 5_000);
    return { hub: new CloudHub({ blocks: blocks(), metadata: new RedisMetadataStore(client) }), client };
  };
  const a = await open();
  const b = await open();
  const recipes = await time(SHARED.recipes, (i) => a.hub.storeJson('recipe', recipe(10_000 + i)));
  const recipeRestores = await time(SHARED.recipes, (i) => b.hub.retrieve(recipes.results[(i * 7919) % SHARED.recipes]!.cid));
  const small = await time(SHARED.small.stores, (i) => a.hub.storeBytes(checkpoint(1_000 + i)));
  const smallRestores = await time(SHARED.small.restores, (i) => b.hub.retrieve(small.results[i % SHARED.small.stores]!.cid));
  const large = await time(SHARED.large.stores, (i) => a.hub.storeBytes(bigCheckpoint(2_000 + i, 50)));
  const largeRestores = await time(SHARED.large.restores, (i) => b.hub.retrieve(large.results[i % SHARED.large.stores]!.cid));
  for (const side of [a, b]) {
    await side.hub.close();
    side.client.disconnect();
  }
  console.error(`  ${label} done`);
  const mbps = (stat: Stats, mib: number) => ({ ...stat, mbPerSecond: stat.opsPerSecond * mib * 1.048576 });
  return {
    'store on A, 10 KB recipe': recipes.stats,
    'restore on B, 10 KB recipe': recipeRestores.stats,
    'store on A, 5 MiB checkpoint': mbps(small.stats, 5),
    'restore on B, 5 MiB checkpoint': mbps(smallRestores.stats, 5),
    'store on A, 50 MiB checkpoint': mbps(large.stats, 50),
    'restore on B, 50 MiB checkpoint': mbps(largeRestores.stats, 50),
  };
}
console.error('\nmeasuring many hosts (A stores, B restores; local block directory vs shared S3 store)…');
const sharedRedis = await startRedis({ persistent: true });
const s3 = await startS3();
Object.assign(process.env, { AWS_ACCESS_KEY_ID: s3.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: s3.env.AWS_SECRET_ACCESS_KEY });
const sharedDir = await mkdtemp(join(tmpdir(), 'fai-bench-shared-'));
const local = await measureShared('local block directory', () => new BlockStore(join(sharedDir, 'blocks')), sharedRedis.url);
const inS3 = await measureShared('shared S3 store', () => new BlockStore(new S3BlockBackend({ endpoint: s3.endpoint, bucket: s3.bucket, region: 'us-east-1', timeoutMs: 10_000 })), sharedRedis.url);
await s3.stop();
await sharedRedis.stop();
await rm(sharedDir, { recursive: true, force: true });

const fmtShared = (s: Stats & { mbPerSecond?: number }) => `${s.mbPerSecond === undefined ? `${Math.round(s.opsPerSecond)}/s` : `${s.mbPerSecond.toFixed(0)} MB/s`}  p50 ${s.p50.toFixed(1)}  p95 ${s.p95.toFixed(1)} ms`;
const goals: Record<string, number> = { 'restore on B, 10 KB recipe': 50, 'restore on B, 5 MiB checkpoint': 1_000, 'restore on B, 50 MiB checkpoint': 5_000 };
console.log('\nmany hosts: A stores, B restores (records in one Redis, AOF fsync always; s3rver on loopback):');
const sharedRows = [['operation', 'local block directory (baseline)', 'shared S3 store', 'S3 p95 / local p95', 'goal (p95)']];
for (const op of Object.keys(local)) sharedRows.push([op, fmtShared(local[op]!), fmtShared(inS3[op]!), `×${(inS3[op]!.p95 / local[op]!.p95).toFixed(2)}`, goals[op] === undefined ? '' : `≤ ${goals[op]} ms: ${inS3[op]!.p95 <= goals[op]! ? 'met' : 'NOT met'}`]);
const sharedWidths = sharedRows[0]!.map((_, c) => Math.max(...sharedRows.map((r) => r[c]!.length)));
for (const row of sharedRows) console.log(row.map((cell, c) => cell.padEnd(sharedWidths[c]!)).join('  '));
