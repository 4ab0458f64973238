import * as dagJson from '@ipld/dag-json';
import { importer } from 'ipfs-unixfs-importer';
import { exporter } from 'ipfs-unixfs-exporter';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { BlockBackend, ListedBlock } from './block-backend.ts';
import { BlockError } from './block-error.ts';
import { FsBlockBackend } from './fs-blocks.ts';

export { BlockError, type BlockErrorType } from './block-error.ts';

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
 * Where the blocks live is a BlockBackend: a directory (fs) or a shared S3-compatible bucket (s3).
 */
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

const UNIXFS_PROFILE = 'unixfs-v1-2025' as const;

/** The blocks, wherever the backend keeps them, with verification on every read. */
export class BlockStore {
  readonly backend: BlockBackend;

  /** A directory path is the fs backend (the embedded default). */
  constructor(backend: BlockBackend | string) {
    this.backend = typeof backend === 'string' ? new FsBlockBackend(backend) : backend;
  }

  /** The directory or bucket, for messages and /health. */
  get where(): string {
    return this.backend.where;
  }

  open(): Promise<void> {
    return this.backend.open();
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  ping(): Promise<void> {
    return this.backend.ping();
  }

  /** Writes in flight, by CID: two writes of one block (equal chunks of a file) share one. */
  private readonly writing = new Map<string, Promise<void>>();

  async put(cid: CID, bytes: Uint8Array): Promise<void> {
    const key = cid.toString();
    const inFlight = this.writing.get(key);
    if (inFlight !== undefined) return inFlight;
    const write = this.backend.put(cid, bytes).finally(() => this.writing.delete(key));
    this.writing.set(key, write);
    return write;
  }

  /** The block's bytes, re-hashed against its CID. */
  async get(cid: CID): Promise<Uint8Array> {
    const bytes = await this.backend.get(cid);
    await verify(cid, bytes);
    return bytes;
  }

  has(cid: CID): Promise<boolean> {
    return this.backend.has(cid);
  }

  delete(cid: CID): Promise<void> {
    return this.backend.delete(cid);
  }

  /** Every block with its write time by the store's clock (for garbage collection). */
  list(): AsyncGenerator<ListedBlock> {
    return this.backend.list();
  }

  /** The store's clock now: gc's cutoff is taken from it, never from this host's. */
  clock(): Promise<number> {
    return this.backend.clock();
  }

  /** Removes what writes a crash cut short, last written before `before` (store clock). */
  removeStaleTemp(before: number): Promise<number> {
    return this.backend.removeStaleTemp(before);
  }

  /** Every block CID in the store. */
  async *cids(): AsyncGenerator<CID> {
    for await (const { cid } of this.backend.list()) yield cid;
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
