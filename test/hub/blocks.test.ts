import assert from 'node:assert/strict';
import fsPromises, { mkdtemp, rm } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { FaiError } from '../../src/errors/index.ts';
import { BlockError, BlockStore, checkJsonValue, decodeJsonBlock, encodeJsonBlock, MAX_JSON_DEPTH, parseCid, rawCid } from '../../src/hub/index.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fai-blocks-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CIDs are the ones IPFS computes', () => {
  // Published values: `ipfs add --cid-version 1` of "hello world" (11 bytes) and of nothing.
  it('raw leaves: "hello world" and the empty file', async () => {
    assert.equal((await rawCid(utf8('hello world'))).toString(), 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e');
    assert.equal((await rawCid(new Uint8Array())).toString(), 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku');
  });

  it('a file of one chunk imports to its raw leaf, as Helia and Kubo do', async () => {
    const blocks = new BlockStore(join(dir, 'one'));
    assert.equal((await blocks.putFile(utf8('hello world'))).toString(), 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e');
    assert.equal((await blocks.putFile(utf8('hello\n'))).toString(), 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am');
    await blocks.close();
  });

  it('dag-json: the IPLD codec fixture dagpb_1namedlink+data', async () => {
    // ipld/codec-fixtures: fixtures/dagpb_1namedlink+data/<cid>.dag-json holds these bytes under this CID.
    const fixture = '{"Data":{"/":{"bytes":"CAE"}},"Links":[{"Hash":{"/":"bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"},"Name":"hello.txt","Tsize":6}]}';
    const { cid, bytes } = await encodeJsonBlock(decodeJsonBlock(utf8(fixture)));
    assert.equal(cid.toString(), 'baguqeera33s42p2sjw7hz6rsawracsab643ixxch3nx7eovttooneklcim5q');
    assert.equal(new TextDecoder().decode(bytes), fixture);
  });
});

describe('BlockStore', () => {
  it('round-trips a 5 MB checkpoint through 1 MiB chunks under one dag-pb root', async () => {
    const blocks = new BlockStore(join(dir, 'big'));
    const bytes = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
    const root = await blocks.putFile(bytes);
    assert.equal(root.code, 0x70, 'dag-pb root');
    assert.equal((await blocks.links(root)).length, 5);
    assert.deepEqual(Buffer.compare(Buffer.from(await blocks.getFile(root)), Buffer.from(bytes)), 0);
    assert.equal((await blocks.putFile(bytes)).toString(), root.toString(), 'same bytes, same CID');
    await blocks.close();
  });

  it('refuses a block whose bytes do not hash to its CID', async () => {
    const blocks = new BlockStore(join(dir, 'bad'));
    const cid = await rawCid(utf8('the real content'));
    await blocks.put(cid, utf8('something else'));
    await assert.rejects(blocks.get(cid), (e: unknown) => e instanceof BlockError && e.errorType === 'hash_mismatch');
    await blocks.close();
  });

  it('names a missing block and a malformed CID', async () => {
    const blocks = new BlockStore(join(dir, 'missing'));
    await assert.rejects(blocks.get(await rawCid(utf8('never stored'))), (e: unknown) => e instanceof BlockError && e.errorType === 'missing_block');
    assert.throws(() => parseCid('not-a-cid', 'params.cid'), (e: unknown) => e instanceof BlockError && e.errorType === 'malformed_cid' && e.field === 'params.cid');
    await blocks.close();
  });
});

describe('checkJsonValue (what a stored recipe or feedback may hold)', () => {
  it('for any JSON value: refused with a FAI_ERR_VALIDATION naming a path, or encoded and decoded back exactly (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
        try {
          checkJsonValue(value);
        } catch (error) {
          assert.ok(error instanceof FaiError && error.code === 'FAI_ERR_VALIDATION' && typeof error.field === 'string' && error.field.startsWith('body'), String(error));
          return;
        }
        const { bytes } = await encodeJsonBlock(value);
        assert.deepEqual(decodeJsonBlock(bytes), JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300, seed: 17 },
    );
  });

  it('refuses non-finite numbers, the reserved key "/", and nesting past the limit, without recursion', () => {
    assert.throws(() => checkJsonValue({ a: [1, Number.NaN] }), /body\.a\.1: NaN is not a finite number/);
    assert.throws(() => checkJsonValue({ '/': 'bafy' }), /reserved by dag-json/);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    assert.throws(() => checkJsonValue(deep), new RegExp(`nested deeper than ${MAX_JSON_DEPTH} levels`));
  });
});

describe('durable blocks', () => {
  it('fsyncs each block file before its rename, and its directory after (and the block directory when the shard is new)', async () => {
    const root = join(dir, 'durable');
    const blocks = new BlockStore(root);
    await blocks.open();
    const events: string[] = [];
    const pathOf = new WeakMap<object, string>();
    const originalOpen = fsPromises.open;
    const originalRename = fsPromises.rename;
    const probe = await originalOpen(join(dir, 'probe'), 'w');
    const handleProto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const originalSync = handleProto.sync;
    const name = (path: string) => (path === root ? '<blocks>' : relative(root, path).replace(/\.[^/]*\.tmp$/, '.tmp').replace(/^[A-Z0-9]+\//, '<shard>/').replace(/^[A-Z0-9]+$/, '<shard>').replace(/\/[A-Z0-9]+\.data$/, '/<block>'));
    try {
      fsPromises.open = (async (path: string, ...rest: unknown[]) => {
        const handle = await (originalOpen as (...a: unknown[]) => Promise<object>)(path, ...rest);
        pathOf.set(handle, String(path));
        return handle;
      }) as typeof fsPromises.open;
      fsPromises.rename = (async (from: string, to: string) => {
        events.push(`rename ${name(String(from))} → ${name(String(to))}`);
        return originalRename(from, to);
      }) as typeof fsPromises.rename;
      handleProto.sync = async function (this: object) {
        events.push(`fsync ${name(pathOf.get(this) ?? '?')}`);
        return originalSync.call(this);
      };
      syncBuiltinESMExports();
      const bytes = utf8('a block that must survive a power cut');
      await blocks.put(await rawCid(bytes), bytes);
    } finally {
      fsPromises.open = originalOpen;
      fsPromises.rename = originalRename;
      handleProto.sync = originalSync;
      syncBuiltinESMExports();
    }
    assert.deepEqual(events, ['fsync <shard>/.tmp', 'rename <shard>/.tmp → <shard>/<block>', 'fsync <shard>', 'fsync <blocks>']);
    assert.equal(basename(root), 'durable');
    await blocks.close();
  });
});
