/**
 * Cloud Hub store and restore: ops/s and p50/p95/p99 latency for a 10 KB recipe and a 5 MB
 * checkpoint, with the embedded metadata store and with a real Redis, side by side with a
 * baseline that writes and reads the same bytes as plain files (no hashing, no metadata).
 * Target: restore p95 ≤ 5 ms for a 10 KB recipe, embedded.
 *
 * Also: the cost of durable blocks (our fsynced put) beside blockstore-fs's unsynced put.
 *
 *   make bench-hub        (needs redis-server for the Redis column; `make system-deps` installs it)
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlockstore } from 'blockstore-fs';
import { NextToLast } from 'blockstore-fs/sharding';
import { BlockStore, CloudHub, connectRedis, EmbeddedMetadataStore, rawCid, RedisMetadataStore } from '../src/hub/index.ts';
import { startRedis } from '../test/helpers/servers.ts';

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
