import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { BlockError, BlockStore, CloudHub, EmbeddedMetadataStore, rawCid } from '../../src/hub/index.ts';
import { S3BlockBackend } from '../../src/hub/s3-blocks.ts';
import { startS3, type S3Server } from '../helpers/servers.ts';

// The shared block store against a real S3-compatible server (s3rver in its own process): each known pitfall of
// S3 as a block store has its case here.
let s3: S3Server;
let dir: string;
const credentials = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
before(async () => {
  Object.assign(process.env, credentials);
  s3 = await startS3();
  dir = await mkdtemp(join(tmpdir(), 'fai-s3-test-'));
});
after(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

const backend = (prefix: string, timeoutMs = 1_800) => new S3BlockBackend({ endpoint: s3.endpoint, bucket: s3.bucket, region: 'us-east-1', timeoutMs, prefix });
const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};
const utf8 = (text: string) => new TextEncoder().encode(text);
const failsWith = (type: string) => (error: unknown) => error instanceof BlockError && error.errorType === type;

describe('S3 block store', () => {
  it('stores a 5 MiB checkpoint under the same Kubo-compatible CID as the directory store, and reads it back verified', async () => {
    const bytes = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
    const inBucket = new BlockStore(backend('cid/'));
    const onDisk = new BlockStore(join(dir, 'blocks'));
    const root = await inBucket.putFile(bytes);
    assert.equal(root.toString(), (await onDisk.putFile(bytes)).toString());
    assert.equal(Buffer.compare(Buffer.from(await inBucket.getFile(root)), Buffer.from(bytes)), 0);
    assert.equal((await inBucket.links(root)).length, 5);
    await inBucket.close();
    await onDisk.close();
  });

  it("turns S3's NoSuchKey into missing_block (404), never an I/O error", async () => {
    const blocks = new BlockStore(backend('missing/'));
    const cid = await rawCid(utf8('never stored'));
    await assert.rejects(blocks.get(cid), failsWith('missing_block'));
    await assert.rejects(blocks.get(cid), { code: 'FAI_ERR_NOT_FOUND' });
    assert.equal(await blocks.has(cid), false);
    await blocks.close();
  });

  it('lists an empty store as nothing (no throw), and every block with its LastModified by the store clock', async () => {
    const blocks = new BlockStore(backend('listed/'));
    assert.deepEqual(await collect(blocks.list()), []);
    const cid = await rawCid(utf8('listed'));
    await blocks.put(cid, utf8('listed'));
    const listed = await collect(blocks.list());
    const clock = await blocks.clock();
    assert.deepEqual(listed.map((b) => b.cid.multihash.bytes.toString()), [cid.multihash.bytes.toString()]);
    assert.ok(listed[0]!.modifiedAt !== undefined && listed[0]!.modifiedAt <= clock && clock - listed[0]!.modifiedAt < 5_000, `block time ${listed[0]!.modifiedAt}, store clock ${clock}`);
    await blocks.close();
  });

  it('lists a store longer than one page, page by page', async () => {
    const blocks = new BlockStore(new S3BlockBackend({ endpoint: s3.endpoint, bucket: s3.bucket, region: 'us-east-1', timeoutMs: 1_800, prefix: 'paged/', listPageSize: 2 }));
    const written = await Promise.all(['a', 'b', 'c', 'd', 'e'].map(async (text) => {
      const cid = await rawCid(utf8(text));
      await blocks.put(cid, utf8(text));
      return Buffer.from(cid.multihash.bytes).toString('hex');
    }));
    // A listing knows blocks by their hash (as the directory store does): compared by multihash.
    assert.deepEqual((await collect(blocks.cids())).map((cid) => Buffer.from(cid.multihash.bytes).toString('hex')).sort(), written.sort());
    await blocks.close();
  });

  it('refuses a block whose bytes do not hash to its key (FAI_ERR_INTEGRITY)', async () => {
    const blocks = new BlockStore(backend('corrupt/'));
    const cid = await rawCid(utf8('the real content'));
    await blocks.backend.put(cid, utf8('something else'));
    await assert.rejects(blocks.get(cid), failsWith('hash_mismatch'));
    await assert.rejects(blocks.get(cid), { code: 'FAI_ERR_INTEGRITY' });
    await blocks.close();
  });

  it('gc removes an orphan older than its cutoff by the store clock and keeps what a record reaches', async () => {
    const hub = new CloudHub({ blocks: new BlockStore(backend('gc/')), metadata: new EmbeddedMetadataStore(join(dir, 'gc-meta')), gcGraceMs: 0 });
    const kept = await hub.storeJson('recipe', { name: 'kept' });
    const orphan = await rawCid(utf8('orphan'));
    await new BlockStore(backend('gc/')).put(orphan, utf8('orphan'));
    assert.deepEqual(await hub.gc(), { kept: 1, removed: 0, spared: 1, tempRemoved: 0 }, 'written this second: younger than the cutoff');
    // S3 keeps whole seconds, and gc allows one more of slack: past two, the orphan is old.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    assert.deepEqual(await hub.gc(), { kept: 1, removed: 1, spared: 0, tempRemoved: 0 });
    assert.deepEqual((await hub.retrieve(kept.cid)).value, { name: 'kept' });
    await hub.close();
  });

  it('answers unavailable (503) within 2 s when the server is killed or stalled, and reads every acknowledged block after its restart', async () => {
    const blocks = new BlockStore(backend('outage/'));
    const cid = await rawCid(utf8('acknowledged'));
    await blocks.put(cid, utf8('acknowledged'));
    for (const outage of ['SIGKILL', 'SIGSTOP'] as const) {
      if (outage === 'SIGKILL') await s3.kill();
      else s3.signal('SIGSTOP');
      const started = performance.now();
      await assert.rejects(blocks.get(cid), (error: unknown) => failsWith('unavailable')(error) && (error as BlockError).code === 'FAI_ERR_UNAVAILABLE' && /unavailable/.test((error as Error).message));
      assert.ok(performance.now() - started < 2_000, `${outage}: answered after ${Math.round(performance.now() - started)} ms`);
      await assert.rejects(blocks.ping(), failsWith('unavailable'));
      if (outage === 'SIGKILL') await s3.restart();
      else s3.signal('SIGCONT');
      assert.deepEqual(await blocks.get(cid), utf8('acknowledged'));
    }
    await blocks.close();
  });

  it('names what to set when the store refuses the credentials, or there are none', async () => {
    // s3rver takes any signature: a stand-in answers as S3 does to a wrong key (403 AccessDenied).
    const refusing = createServer((request, response) => {
      request.resume();
      response.writeHead(403, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const refused = new S3BlockBackend({ endpoint: `http://127.0.0.1:${(refusing.address() as { port: number }).port}`, bucket: 'b', region: 'us-east-1', timeoutMs: 1_800 });
    try {
      await assert.rejects(refused.get(await rawCid(utf8('x'))), (error: unknown) => failsWith('unavailable')(error) && /refused the credentials \(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\)/.test((error as Error).message));
    } finally {
      await refused.close();
      refusing.close();
    }
    const saved = { ...process.env };
    try {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'), AWS_CONFIG_FILE: join(dir, 'none'), AWS_EC2_METADATA_DISABLED: 'true' });
      const none = new BlockStore(backend('creds/'));
      await assert.rejects(none.ping(), (error: unknown) => failsWith('unavailable')(error) && /no credentials .*set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/.test((error as Error).message));
      await none.close();
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  it('sends no default request checksum off AWS (WHEN_REQUIRED): servers that reject the SDK 3.729+ CRC headers still take our writes', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const recorder = createServer((request, response) => {
      seen.push(request.headers);
      request.resume();
      request.on('end', () => response.writeHead(200, { etag: '"x"' }).end());
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const port = (recorder.address() as { port: number }).port;
    const blocks = new S3BlockBackend({ endpoint: `http://127.0.0.1:${port}`, bucket: 'b', region: 'us-east-1', timeoutMs: 1_800 });
    await blocks.put(await rawCid(utf8('x')), utf8('x'));
    await blocks.close();
    recorder.close();
    assert.equal(seen.length, 1);
    assert.deepEqual(Object.keys(seen[0]!).filter((name) => name.startsWith('x-amz-checksum-') || name === 'x-amz-sdk-checksum-algorithm' || name === 'x-amz-trailer'), []);
    assert.match(String(seen[0]!.host), new RegExp(`^127.0.0.1:${port}$`), 'path-style: the bucket is in the path, not the host');
  });
});

describe('HUB_BLOCKSTORE', () => {
  it('is fs by default; s3 needs a bucket and REDIS_URL, each refused by name', () => {
    assert.deepEqual(loadConfig({}).hubBlockstore, { kind: 'fs' });
    assert.throws(() => loadConfig({ HUB_BLOCKSTORE: 's3', REDIS_URL: 'redis://127.0.0.1:6379' }), /HUB_S3_BUCKET: required with HUB_BLOCKSTORE=s3/);
    assert.throws(() => loadConfig({ HUB_BLOCKSTORE: 's3', HUB_S3_BUCKET: 'fai-blocks' }), /REDIS_URL: required with HUB_BLOCKSTORE=s3.*HUB_BLOCKSTORE=fs/);
    assert.throws(() => loadConfig({ HUB_BLOCKSTORE: 'gcs' }), /HUB_BLOCKSTORE/);
    assert.throws(() => loadConfig({ HUB_BLOCKSTORE: 's3', HUB_S3_BUCKET: 'Not_A_Bucket', REDIS_URL: 'redis://127.0.0.1:6379' }), /HUB_S3_BUCKET/);
    assert.deepEqual(loadConfig({ HUB_BLOCKSTORE: 's3', HUB_S3_BUCKET: 'fai-blocks', HUB_S3_ENDPOINT: 'http://127.0.0.1:9000', REDIS_URL: 'redis://127.0.0.1:6379' }).hubBlockstore, {
      kind: 's3',
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'fai-blocks',
      region: 'us-east-1',
      timeoutMs: 1_800,
    });
  });
});
