import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { catalogue, readHistogram } from '../../src/metrics/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { OPERATOR } from '../helpers/operator.ts';

const MIB = 1024 * 1024;
let dir: string;
let app: App;
let base: string;
let cid: string;
let checksum: string;

/** 64 MiB of pseudo-random bytes (xorshift32), made 1 MiB at a time: the upload is a stream too. */
function* checkpoint(): Generator<Uint8Array> {
  let x = 0x2545f491;
  for (let m = 0; m < 64; m++) {
    const words = new Uint32Array(MIB / 4);
    for (let k = 0; k < words.length; k++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[k] = x >>> 0;
    }
    yield new Uint8Array(words.buffer);
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fai-hub-download-'));
  app = createApp(testConfig({ HUB_DIR: dir, HUB_MAX_CHECKPOINT_MB: '100', RATE_LIMIT_PER_MINUTE: '0' }));
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
  const hash = createHash('sha256');
  for (const chunk of checkpoint()) hash.update(chunk);
  checksum = hash.digest('hex');
  const stored = await fetch(`${base}/v1/hub/checkpoints`, { method: 'POST', headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, body: Readable.from(checkpoint()) as never, duplex: 'half' } as RequestInit);
  assert.equal(stored.status, 201, await stored.clone().text());
  ({ cid } = (await stored.json()) as { cid: string });
});
after(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A slow anonymous reader: takes one chunk, pauses `pauseMs`, takes the next. Resolves with how much it read when stopped. */
function slowReader(pauseMs: number): { request: ClientRequest; read: () => number; done: Promise<void> } {
  let read = 0;
  const request = httpRequest(`${base}/v1/hub/objects/${cid}`);
  const done = new Promise<void>((resolve) => {
    request.on('response', (response) => {
      assert.equal(response.statusCode, 200);
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        response.pause();
        setTimeout(() => response.resume(), pauseMs);
      });
      response.on('end', resolve);
      response.on('close', resolve);
    });
    request.on('error', () => resolve());
  });
  request.end();
  return { request, read: () => read, done };
}

describe('hub downloads stream (a 64 MiB checkpoint)', () => {
  it('serves the whole object, byte for byte, with its checksum header', async () => {
    const response = await fetch(`${base}/v1/hub/objects/${cid}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-length'), String(64 * MIB));
    assert.equal(response.headers.get('x-fai-checksum-sha256'), checksum);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      size += chunk.byteLength;
    }
    assert.deepEqual([size, hash.digest('hex')], [64 * MIB, checksum]);
  });

  it('keeps memory flat with 8 slow anonymous readers, and a reader that goes away stops its reads', async (t) => {
    // RSS after a collection: what the readers hold, not garbage the collector has not reached yet
    // (a 1 MiB block read is freed to the system when collected). The old download held each whole object.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const rss = () => {
      gc();
      return process.memoryUsage().rss;
    };
    const before = rss();
    const readers = Array.from({ length: 8 }, () => slowReader(20));
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 100);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    clearInterval(sampler);
    const read = readers.map((r) => r.read());
    assert.ok(read.every((n) => n > 0 && n < 64 * MIB), `every reader is part-way: ${read.map((n) => (n / MIB).toFixed(1)).join(', ')} MiB`);
    const grewMiB = (peak - before) / MIB;
    t.diagnostic(`8 slow readers, ${read.map((n) => (n / MIB).toFixed(1)).join(', ')} MiB read each in 3 s: RSS grew ${grewMiB.toFixed(0)} MiB at most (after a collection)`);
    // Whole objects in memory would be 8 × 64 MiB (twice over before): 512 MiB or more.
    assert.ok(grewMiB < 96, `RSS grew ${grewMiB.toFixed(0)} MiB with 8 slow readers of a 64 MiB object`);
    const observed = async () => (await readHistogram(app.metrics.registry, catalogue.ipfsRestoreLatencySeconds)).find((s) => s.labels.data_type === 'checkpoint')?.count ?? 0;
    const finishedBefore = await observed();
    for (const reader of readers) reader.request.destroy();
    await Promise.all(readers.map((r) => r.done));
    // Each stream's read ended (its latency observed when the read stopped), not left reading the rest into a dead socket.
    const deadline = Date.now() + 5_000;
    while ((await observed()) < finishedBefore + 8 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await observed()) - finishedBefore, 8, 'all 8 reads stopped when their clients went away');
  });

  it('answers a missing object 404 in our error format, before any byte of content', async () => {
    const response = await fetch(`${base}/v1/hub/objects/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi`);
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'FAI_ERR_NOT_FOUND');
  });
});
