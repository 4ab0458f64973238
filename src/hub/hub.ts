import { createHash } from 'node:crypto';
import type { CID } from 'multiformats/cid';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { BlockError, BlockStore, checkJsonValue, decodeJsonBlock, encodeJsonBlock, parseCid, type BlockErrorType } from './blocks.ts';
import type { DataType, MetadataStore, ObjectRecord } from './metadata.ts';

/** Default time to live per data type (the feedback 30 d, checkpoint 90 d, recipe 365 d). */
/** Data types stored as UnixFS files (bytes); the others are dag-json blocks. */
type FileType = 'checkpoint' | 'shadow';
const FILE_TYPES: ReadonlySet<DataType> = new Set<FileType>(['checkpoint', 'shadow']);

export const DEFAULT_TTL_SECONDS: Readonly<Record<DataType, number>> = {
  feedback: 30 * 86_400,
  checkpoint: 90 * 86_400,
  recipe: 365 * 86_400,
  shadow: 90 * 86_400,
};

export interface HubOptions {
  blocks: BlockStore;
  metadata: MetadataStore;
  metrics?: Metrics | undefined;
  ttlSeconds?: Readonly<Record<DataType, number>>;
  /** A restore slower than this fails with `timeout`. */
  restoreTimeoutMs?: number;
  now?: () => number;
}

export interface Retrieved {
  readonly record: ObjectRecord;
  /** The decoded value of a recipe or feedback. */
  readonly value?: unknown;
  /** The bytes of a checkpoint. */
  readonly bytes?: Uint8Array;
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * The Cloud Hub: content-addressed objects with metadata.
 *
 * Write order, and what an acknowledged write means: the block is written (and fsynced by the
 * filesystem blockstore) first, then the metadata record. The write is acknowledged only when
 * both succeeded. If the metadata write fails (Redis down), the caller gets FAI_ERR_UNAVAILABLE
 * and the block stays behind as an orphan without a record, which `gc` removes; writing the same
 * content again is idempotent (same CID).
 */
export class CloudHub {
  private readonly blocks: BlockStore;
  private readonly metadata: MetadataStore;
  private readonly metrics: Metrics | undefined;
  private readonly ttl: Readonly<Record<DataType, number>>;
  private readonly restoreTimeoutMs: number;
  private readonly now: () => number;

  constructor(options: HubOptions) {
    this.blocks = options.blocks;
    this.metadata = options.metadata;
    this.metrics = options.metrics;
    this.ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    this.restoreTimeoutMs = options.restoreTimeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get backend(): MetadataStore['backend'] {
    return this.metadata.backend;
  }

  /** Stores a recipe or a feedback as a dag-json block. */
  async storeJson(dataType: Exclude<DataType, FileType>, value: unknown, tags: readonly string[] = []): Promise<ObjectRecord> {
    // A recipe or feedback is plain JSON: what dag-json would store as something else is refused here, at write.
    checkJsonValue(value);
    const { cid, bytes } = await encodeJsonBlock(value);
    await this.blocks.put(cid, bytes);
    return this.record(cid, dataType, bytes.length, sha256Hex(bytes), tags);
  }

  /** Stores a checkpoint (or any binary: a shadow report's inputs) as a UnixFS file, chunked, of any size. */
  async storeBytes(bytes: Uint8Array, tags: readonly string[] = [], dataType: FileType = 'checkpoint'): Promise<ObjectRecord> {
    const cid = await this.blocks.putFile(bytes);
    return this.record(cid, dataType, bytes.length, sha256Hex(bytes), tags);
  }

  private async record(cid: CID, dataType: DataType, size: number, checksum: string, tags: readonly string[]): Promise<ObjectRecord> {
    const existing = await this.metadata.get(cid.toString());
    const record: ObjectRecord = {
      cid: cid.toString(),
      size,
      data_type: dataType,
      created_at: existing?.created_at ?? new Date(this.now()).toISOString(),
      tags: [...new Set([...(existing?.tags ?? []), ...tags])],
      checksum,
      pinned: existing?.pinned ?? false,
    };
    await this.metadata.put(record, record.pinned ? null : this.ttl[dataType]);
    // Counted once the object is stored and recorded: a store that failed is not a store.
    this.metrics?.ipfsOperationsTotal.inc({ operation: 'store' });
    return record;
  }

  /** Restores an object, verifying every block against its CID and the content against its checksum. */
  async retrieve(cidText: string): Promise<Retrieved> {
    const started = performance.now();
    let dataType: DataType | undefined;
    try {
      const cid = parseCid(cidText);
      const record = await this.metadata.get(cid.toString());
      if (record === null) throw new BlockError('missing_block', `no object ${cid} in this hub (never stored, expired or collected)`);
      dataType = record.data_type;
      const retrieved = await this.withTimeout(async (): Promise<Retrieved> => {
        if (FILE_TYPES.has(record.data_type)) {
          const bytes = await this.blocks.getFile(cid);
          this.checkContent(cid, record, bytes);
          return { record, bytes };
        }
        const bytes = await this.blocks.get(cid);
        this.checkContent(cid, record, bytes);
        return { record, value: decodeJsonBlock(bytes) };
      }, cid);
      this.metrics?.ipfsOperationsTotal.inc({ operation: 'retrieve' });
      this.metrics?.ipfsRestoreLatencySeconds.observe({ data_type: record.data_type }, (performance.now() - started) / 1000);
      return retrieved;
    } catch (error) {
      if (error instanceof BlockError) this.countError(error.errorType);
      // A restore that was attempted and failed (timed out, corrupt, a block missing) took its time too: the
      // latency alert must see a slow failing restore, not only the ones that succeeded.
      if (dataType !== undefined) this.metrics?.ipfsRestoreLatencySeconds.observe({ data_type: dataType }, (performance.now() - started) / 1000);
      throw error;
    }
  }

  private checkContent(cid: CID, record: ObjectRecord, bytes: Uint8Array): void {
    if (bytes.length !== record.size || sha256Hex(bytes) !== record.checksum) {
      throw new BlockError('hash_mismatch', `object ${cid}: content does not match its recorded size and checksum`);
    }
  }

  private async withTimeout<T>(run: () => Promise<T>, cid: CID): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BlockError('timeout', `restoring ${cid} took longer than ${this.restoreTimeoutMs} ms`)), this.restoreTimeoutMs);
    });
    try {
      return await Promise.race([run(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private countError(errorType: BlockErrorType): void {
    this.metrics?.ipfsCidErrorsTotal.inc({ error_type: errorType });
  }

  async get(cidText: string): Promise<ObjectRecord> {
    const record = await this.metadata.get(parseCid(cidText).toString());
    if (record === null) throw new FaiError(ErrorCodes.NOT_FOUND, `no object ${cidText}`, { field: 'cid' });
    return record;
  }

  /** Keeps an object from expiring and from garbage collection. */
  async pin(cidText: string): Promise<ObjectRecord> {
    const record = { ...(await this.get(cidText)), pinned: true };
    await this.metadata.put(record, null);
    this.metrics?.ipfsOperationsTotal.inc({ operation: 'pin' });
    return record;
  }

  /** Lets a pinned object expire again, its time to live counted from its creation. */
  async unpin(cidText: string): Promise<ObjectRecord> {
    const record = { ...(await this.get(cidText)), pinned: false };
    const ageSeconds = (this.now() - Date.parse(record.created_at)) / 1000;
    await this.metadata.put(record, Math.max(1, Math.round(this.ttl[record.data_type] - ageSeconds)));
    return record;
  }

  list(dataType: DataType, limit = 100): Promise<ObjectRecord[]> {
    return this.metadata.list(dataType, limit);
  }

  /**
   * Removes every block that no live record reaches (expired, never recorded, or orphaned by a
   * failed write). Pinned records never expire, so what they reach stays.
   */
  async gc(): Promise<{ kept: number; removed: number }> {
    // Keyed by multihash: the block directory knows blocks by their hash only (it lists them as raw CIDs).
    const key = (cid: CID) => Buffer.from(cid.multihash.bytes).toString('hex');
    const live = new Set<string>();
    const pending: CID[] = [];
    for await (const cidText of this.metadata.cids()) pending.push(parseCid(cidText));
    while (pending.length > 0) {
      const cid = pending.pop()!;
      if (live.has(key(cid))) continue;
      live.add(key(cid));
      // A live object with a missing or corrupt child is reported by restore; gc keeps what it can reach.
      const links = await this.blocks.links(cid).catch(() => []);
      pending.push(...links);
    }
    let kept = 0;
    let removed = 0;
    for await (const cid of this.blocks.cids()) {
      if (live.has(key(cid))) kept++;
      else {
        await this.blocks.delete(cid);
        removed++;
      }
    }
    return { kept, removed };
  }

  async ping(): Promise<void> {
    await this.blocks.open();
    await this.metadata.ping();
  }

  async close(): Promise<void> {
    await this.blocks.close();
    await this.metadata.close();
  }
}
