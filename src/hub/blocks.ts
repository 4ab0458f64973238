import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as dagJson from '@ipld/dag-json';
import { FsBlockstore } from 'blockstore-fs';
import { NextToLast } from 'blockstore-fs/sharding';
import { importer } from 'ipfs-unixfs-importer';
import { exporter } from 'ipfs-unixfs-exporter';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { syncDirectory, writeFileSynced } from '../system/index.ts';
import { explainStorageError } from './storage-error.ts';

/**
 * Content-addressed blocks, as IPFS stores them.
 *
 * - Structured data (recipes, feedback) is one dag-json block, CIDv1, sha2-256: the CID Helia's
 *   `@helia/dag-json` (or `ipfs dag put --store-codec dag-json`) gives the same value.
 * - Binary data (checkpoints) is imported as a UnixFS file with the `unixfs-v1-2025` profile
 *   (CIDv1, raw leaves, 1 MiB chunks, up to 1024 links per node) — the profile Helia's `addBytes`
 *   and Kubo's `ipfs add --profile=unixfs-v1-2025` share. A file of one chunk is its own raw
 *   block; a larger one is a dag-pb tree whose leaves are verified one by one on restore.
 *
 * Every block read is re-hashed and compared with its CID: a mismatch is an error, never data.
 */
export type BlockErrorType = 'hash_mismatch' | 'malformed_cid' | 'missing_block' | 'timeout' | 'io';

export class BlockError extends FaiError {
  readonly errorType: BlockErrorType;

  constructor(errorType: BlockErrorType, message: string, options: { cause?: unknown; field?: string } = {}) {
    const code =
      errorType === 'hash_mismatch'
        ? ErrorCodes.INTEGRITY
        : errorType === 'malformed_cid'
          ? ErrorCodes.VALIDATION
          : errorType === 'missing_block'
            ? ErrorCodes.NOT_FOUND
            : errorType === 'timeout'
              ? ErrorCodes.TIMEOUT
              : ErrorCodes.STORAGE;
    super(code, message, options);
    this.errorType = errorType;
  }
}

/** `work`, or a BlockError of type `timeout` ("<what> took longer than N ms") once `ms` have passed. */
export async function withinTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BlockError('timeout', `${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether text is a CID (any version and codec). */
export function isCid(text: string): boolean {
  try {
    CID.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Parses a CID from text; throws `malformed_cid` naming the field. */
export function parseCid(text: string, field = 'cid'): CID {
  try {
    return CID.parse(text.trim());
  } catch (error) {
    throw new BlockError('malformed_cid', `${field}: "${text.slice(0, 100)}" is not a CID`, { cause: error, field });
  }
}

/** Deepest nesting a stored JSON value may have (recipes and feedback are shallow documents). */
export const MAX_JSON_DEPTH = 64;

/**
 * Refuses what dag-json cannot store faithfully, before it is encoded: a non-finite number (JSON has
 * none; `1e400` parses to Infinity), nesting deeper than MAX_JSON_DEPTH (the encoder recurses), and
 * the key "/" — dag-json reserves it for links (`{"/": "bafy…"}`) and bytes (`{"/": {"bytes": …}}`),
 * so an object holding it would be stored as a link (or refused, or read back changed) rather than
 * as the object sent. Walks the value without recursion, so no input can overflow the stack here.
 */
export function checkJsonValue(value: unknown, field = 'body'): void {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: field, depth: 0 }];
  while (stack.length > 0) {
    const { value: item, path, depth } = stack.pop()!;
    if (typeof item === 'number' && !Number.isFinite(item)) throw new FaiError(ErrorCodes.VALIDATION, `${path}: ${item} is not a finite number (JSON has no Infinity or NaN)`, { field: path });
    if (item === null || typeof item !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) throw new FaiError(ErrorCodes.VALIDATION, `${path}: nested deeper than ${MAX_JSON_DEPTH} levels`, { field: path });
    if (Array.isArray(item)) item.forEach((element, i) => stack.push({ value: element, path: `${path}.${i}`, depth: depth + 1 }));
    else {
      for (const [key, element] of Object.entries(item)) {
        if (key === '/') throw new FaiError(ErrorCodes.VALIDATION, `${path}: the key "/" is reserved by dag-json for links and bytes; a stored object cannot hold it`, { field: `${path}./` });
        stack.push({ value: element, path: `${path}.${key}`, depth: depth + 1 });
      }
    }
  }
}

/** The dag-json block of a value, and its CID. */
export async function encodeJsonBlock(value: unknown): Promise<{ cid: CID; bytes: Uint8Array }> {
  const bytes = dagJson.encode(value);
  return { cid: CID.create(1, dagJson.code, await sha256.digest(bytes)), bytes };
}

export function decodeJsonBlock(bytes: Uint8Array): unknown {
  return dagJson.decode(bytes);
}

/** The raw-codec CID of some bytes (what `ipfs add --cid-version 1` prints for a file of one chunk). */
export async function rawCid(bytes: Uint8Array): Promise<CID> {
  return CID.create(1, raw.code, await sha256.digest(bytes));
}

async function verify(cid: CID, bytes: Uint8Array): Promise<void> {
  if (cid.multihash.code !== sha256.code) {
    throw new BlockError('malformed_cid', `${cid}: hash function 0x${cid.multihash.code.toString(16)} is not sha2-256, the only one this hub writes`);
  }
  const digest = await sha256.digest(bytes);
  const expected = cid.multihash.digest;
  if (digest.digest.length !== expected.length || !digest.digest.every((byte, i) => byte === expected[i])) {
    throw new BlockError('hash_mismatch', `block ${cid} is corrupt: its bytes do not hash to its CID`);
  }
}

/** A storage failure as a BlockError of type `io`, worded by explainStorageError. */
async function storageError(error: unknown, path: string, what: string): Promise<BlockError> {
  const explained = await explainStorageError(error, path, what);
  return new BlockError('io', explained.message, { cause: error });
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; code?: string };
  return e.name === 'NotFoundError' || e.code === 'ERR_NOT_FOUND' || e.code === 'ENOENT';
}

const UNIXFS_PROFILE = 'unixfs-v1-2025' as const;

let temporarySequence = 0;

/** The block directory, with verification on every read. */
export class BlockStore {
  readonly directory: string;
  private readonly store: FsBlockstore;
  /** blockstore-fs's default layout, held here too: gc reads a block file's age. */
  private readonly sharding = new NextToLast();
  private opened: Promise<void> | undefined;

  constructor(directory: string) {
    this.directory = directory;
    this.store = new FsBlockstore(directory, { shardingStrategy: this.sharding });
  }

  open(): Promise<void> {
    this.opened ??= this.store.open().catch(async (error: unknown) => {
      this.opened = undefined;
      throw await storageError(error, this.directory, 'cannot open the block directory');
    });
    return this.opened;
  }

  async close(): Promise<void> {
    if (this.opened !== undefined) await this.store.close();
    this.opened = undefined;
  }

  /** Writes in flight, by CID: two writes of one block (equal chunks of a file) share one. */
  private readonly writing = new Map<string, Promise<void>>();

  async put(cid: CID, bytes: Uint8Array): Promise<void> {
    await this.open();
    const key = cid.toString();
    const inFlight = this.writing.get(key);
    if (inFlight !== undefined) return inFlight;
    const write = this.writeDurable(cid, bytes)
      .catch(async (error: unknown) => {
        throw await storageError(error, this.directory, `cannot write block ${cid}`);
      })
      .finally(() => this.writing.delete(key));
    this.writing.set(key, write);
    return write;
  }

  /**
   * Writes a block where blockstore-fs reads it (its sharding), durably: the bytes go to a temporary
   * file of this write's own, are fsynced, renamed into place, and the directory is fsynced (and the
   * block directory too when this write created the shard). blockstore-fs's own put renames without
   * any fsync, so after a power cut an acknowledged record could point at a missing or empty block;
   * no library we use offers a synced put, hence this. Temporary names end in `.tmp`: a write a crash
   * cut short is removed by gc's stale-temp rule.
   */
  private async writeDurable(cid: CID, bytes: Uint8Array): Promise<void> {
    const { dir, file } = this.sharding.encode(cid);
    const shard = join(this.directory, dir);
    const created = await mkdir(shard, { recursive: true });
    const temporary = join(shard, `.${file}.${process.pid}.${++temporarySequence}.tmp`);
    try {
      await writeFileSynced(temporary, bytes);
      await rename(temporary, join(shard, file));
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    await syncDirectory(shard);
    if (created !== undefined) await syncDirectory(this.directory);
  }

  /** The block's bytes, re-hashed against its CID. */
  async get(cid: CID): Promise<Uint8Array> {
    await this.open();
    const chunks: Uint8Array[] = [];
    try {
      for await (const chunk of this.store.get(cid)) chunks.push(chunk);
    } catch (error) {
      if (isNotFound(error)) throw new BlockError('missing_block', `block ${cid} is not in this hub`);
      throw await storageError(error, this.directory, `cannot read block ${cid}`);
    }
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    await verify(cid, bytes);
    return bytes;
  }

  async has(cid: CID): Promise<boolean> {
    await this.open();
    return this.store.has(cid);
  }

  async delete(cid: CID): Promise<void> {
    await this.open();
    await this.store.delete(cid);
  }

  /** When the block's file was last written (ms since the epoch); undefined when it is not there. */
  async modifiedAt(cid: CID): Promise<number | undefined> {
    await this.open();
    const { dir, file } = this.sharding.encode(cid);
    return stat(join(this.directory, dir, file)).then(
      (info) => info.mtimeMs,
      () => undefined,
    );
  }

  /**
   * Removes the temporary files of writes that never finished (blockstore-fs writes `.<block>.tmp`, then
   * renames it; a kill -9 between the two leaves it) last written before `before` (ms since the epoch):
   * a younger one may be a write in flight. Resolves with how many were removed.
   */
  async removeStaleTemp(before: number): Promise<number> {
    await this.open();
    let removed = 0;
    for (const entry of await readdir(this.directory, { recursive: true })) {
      if (!entry.endsWith('.tmp')) continue;
      const path = join(this.directory, entry);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || info.mtimeMs >= before) continue;
      await rm(path, { force: true });
      removed++;
    }
    return removed;
  }

  /** Every block CID in the directory (for garbage collection). */
  async *cids(): AsyncGenerator<CID> {
    await this.open();
    for await (const pair of this.store.getAll()) yield pair.cid;
  }

  /** Imports bytes (or a stream of them, written chunk by chunk) as a UnixFS file; resolves with the root CID. */
  async putFile(bytes: Uint8Array | AsyncIterable<Uint8Array>): Promise<CID> {
    await this.open();
    // The importer writes through this adapter so every block goes through our error handling.
    const adapter = { put: async (cid: CID, block: Uint8Array) => (await this.put(cid, block), cid), get: (cid: CID) => this.getChunks(cid), has: (cid: CID) => this.has(cid) };
    let root: CID | undefined;
    for await (const entry of importer([{ content: bytes }], adapter as never, { profile: UNIXFS_PROFILE })) root = entry.cid;
    if (root === undefined) throw new BlockError('io', 'the importer produced no root block');
    return root;
  }

  /** Reads a UnixFS file back; every block it touches is verified. */
  async getFile(cid: CID): Promise<Uint8Array> {
    await this.open();
    const entry = await exporter(cid, { get: (c: CID) => this.getChunks(c) } as never);
    if (entry.type !== 'file' && entry.type !== 'raw') throw new BlockError('malformed_cid', `${cid} is a ${entry.type}, not a file`);
    const chunks: Uint8Array[] = [];
    for await (const chunk of entry.content()) chunks.push(chunk);
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  /**
   * Streams a UnixFS file's content as its blocks are read: depth first, one block read when the
   * consumer asks for the next bytes, each verified against its CID, each read given
   * `blockTimeoutMs`. A paused consumer pauses the reads; ending the iteration early (a client gone,
   * a timeout) stops them there. Walked here rather than by ipfs-unixfs-exporter, whose file reader
   * pushes every leaf into an unbounded queue as fast as it can read, whatever the consumer takes:
   * eight slow readers of a 64 MiB file held most of it each.
   */
  async *streamFile(cid: CID, blockTimeoutMs: number): AsyncGenerator<Uint8Array> {
    await this.open();
    const read = (c: CID): Promise<Uint8Array> => withinTimeout(this.get(c), blockTimeoutMs, `reading block ${c}`);
    const { decode } = await import('@ipld/dag-pb');
    const walk = async function* (node: CID): AsyncGenerator<Uint8Array> {
      const bytes = await read(node);
      if (node.code === raw.code) {
        yield bytes;
        return;
      }
      if (node.code !== 0x70) throw new BlockError('malformed_cid', `${cid} is not a UnixFS file (block ${node} has codec 0x${node.code.toString(16)})`);
      const pb = decode(bytes);
      const unixfs = pb.Data === undefined ? undefined : UnixFS.unmarshal(pb.Data);
      if (unixfs === undefined || (unixfs.type !== 'file' && unixfs.type !== 'raw')) throw new BlockError('malformed_cid', `${cid} is a ${unixfs?.type ?? 'dag-pb node without UnixFS data'}, not a file`);
      if (unixfs.data !== undefined && unixfs.data.byteLength > 0) yield unixfs.data;
      for (const link of pb.Links) yield* walk(link.Hash);
    };
    yield* walk(cid);
  }

  /** Child blocks of a UnixFS node (dag-pb links); none for a raw leaf or a dag-json block. */
  async links(cid: CID): Promise<CID[]> {
    if (cid.code !== 0x70) return [];
    const { decode } = await import('@ipld/dag-pb');
    return decode(await this.get(cid)).Links.map((link) => link.Hash);
  }

  private async *getChunks(cid: CID): AsyncGenerator<Uint8Array> {
    yield await this.get(cid);
  }
}
