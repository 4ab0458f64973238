import { createHash } from 'node:crypto';
import type { CID } from 'multiformats/cid';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { LocalHubCluster, type HubCluster } from './cluster.ts';
import { BlockError, BlockStore, checkJsonValue, decodeJsonBlock, encodeJsonBlock, parseCid, withinTimeout, type BlockErrorType } from './blocks.ts';
import type { DataType, MetadataStore, ObjectRecord } from './metadata.ts';

/** Default time to live per data type (the feedback 30 d, checkpoint 90 d, recipe 365 d). */
/** Data types stored as UnixFS files (bytes); the others are dag-json blocks. */
type FileType = 'checkpoint' | 'shadow';
/** What a download hands the socket at a time. */
const STREAM_SLICE_BYTES = 64 * 1024;

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
  /**
   * gc spares every block written less than this long before it started (or before the oldest store
   * still in flight): a block whose record is still being written is not garbage. Default 10 minutes.
   */
  gcGraceMs?: number;
  /** Who else stores and collects: this process alone (the default), or every process sharing one Redis. */
  cluster?: HubCluster;
  now?: () => number;
}

/** A file being downloaded: its record, and its content as it is read. */
export interface Streamed {
  readonly record: ObjectRecord;
  readonly content: AsyncGenerator<Uint8Array>;
}

function contentMismatch(cid: CID): BlockError {
  return new BlockError('hash_mismatch', `object ${cid}: content does not match its recorded size and checksum`);
}

export interface Retrieved {
  readonly record: ObjectRecord;
  /** The decoded value of a recipe or feedback. */
  readonly value?: unknown;
  /** The bytes of a checkpoint. */
  readonly bytes?: Uint8Array;
}

/** How far a block's write time may lag its store's clock (a kernel's coarse file clock; S3's whole seconds). */
const CLOCK_SLACK_MS = 1_000;

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
  private readonly gcGraceMs: number;
  /** Stores in flight (here, or everywhere sharing Redis): gc spares their blocks, however long they take. */
  private readonly cluster: HubCluster;

  constructor(options: HubOptions) {
    this.blocks = options.blocks;
    this.metadata = options.metadata;
    this.metrics = options.metrics;
    // Both outcomes exist from the start at 0: the first aborted gc is a step an alert can see.
    for (const outcome of ['completed', 'aborted'] as const) this.metrics?.hubGcRunsTotal.inc({ outcome }, 0);
    this.ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    this.restoreTimeoutMs = options.restoreTimeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.gcGraceMs = options.gcGraceMs ?? 10 * 60_000;
    this.cluster = options.cluster ?? new LocalHubCluster();
  }

  /** Runs a store, known to gc while it runs. */
  private async tracked<T>(store: () => Promise<T>): Promise<T> {
    const ended = await this.cluster.storeBegan().catch((error: unknown) => {
      throw new FaiError(ErrorCodes.UNAVAILABLE, `cannot register the store with the cluster (Redis): ${(error as Error).message}`, { cause: error });
    });
    try {
      return await store();
    } finally {
      await ended();
    }
  }

  /** Where the blocks are: a directory, or s3://bucket at an endpoint. */
  get blockstore(): string {
    return this.blocks.where;
  }

  get backend(): MetadataStore['backend'] {
    return this.metadata.backend;
  }

  /** Stores a recipe or a feedback as a dag-json block. */
  async storeJson(dataType: Exclude<DataType, FileType>, value: unknown, tags: readonly string[] = []): Promise<ObjectRecord> {
    // A recipe or feedback is plain JSON: what dag-json would store as something else is refused here, at write.
    checkJsonValue(value);
    const { cid, bytes } = await encodeJsonBlock(value);
    return this.tracked(async () => {
      await this.blocks.put(cid, bytes);
      return this.record(cid, dataType, bytes.length, sha256Hex(bytes), tags);
    });
  }

  /**
   * Stores a checkpoint (or any binary: a shadow report's inputs) as a UnixFS file, chunked, of any
   * size. Given a stream, each chunk is written as it arrives and hashed on the way: a stream that
   * fails midway leaves orphan blocks (gc removes them) and no record.
   */
  async storeBytes(content: Uint8Array | AsyncIterable<Uint8Array>, tags: readonly string[] = [], dataType: FileType = 'checkpoint'): Promise<ObjectRecord> {
    const hash = createHash('sha256');
    let size = 0;
    const counted = async function* (): AsyncGenerator<Uint8Array> {
      for await (const chunk of content instanceof Uint8Array ? [content] : content) {
        hash.update(chunk);
        size += chunk.byteLength;
        yield chunk;
      }
    };
    return this.tracked(async () => {
      const cid = await this.blocks.putFile(counted());
      return this.record(cid, dataType, size, hash.digest('hex'), tags);
    });
  }

  private async record(cid: CID, dataType: DataType, size: number, checksum: string, tags: readonly string[]): Promise<ObjectRecord> {
    // Merged with a record already there in one atomic step: a pin racing this store is never undone.
    const record = await this.metadata.upsert(
      { cid: cid.toString(), size, data_type: dataType, created_at: new Date(this.now()).toISOString(), tags: [...new Set(tags)], checksum, pinned: false },
      this.ttl[dataType],
    );
    // Counted once the object is stored and recorded: a store that failed is not a store.
    this.metrics?.ipfsOperationsTotal.inc({ operation: 'store' });
    return record;
  }

  /** Restores an object, verifying every block against its CID and the content against its checksum. */
  async retrieve(cidText: string): Promise<Retrieved> {
    return (await this.restore(cidText, false)) as Retrieved;
  }

  /**
   * For downloads: a checkpoint (or shadow file) as a stream — its record first, then its content read
   * block by block as the consumer pulls (never the whole object in memory), every block verified
   * against its CID as it is read; at the end the size and checksum are checked against the record
   * (a mismatch fails the stream). Each block read has the restore timeout; a consumer that stops
   * (a client gone) stops the reads. A JSON object (small) is restored whole, as `retrieve` does, from
   * the same read of its record.
   */
  retrieveStream(cidText: string): Promise<Streamed | Retrieved> {
    return this.restore(cidText, true);
  }

  private async restore(cidText: string, stream: boolean): Promise<Streamed | Retrieved> {
    const started = performance.now();
    let dataType: DataType | undefined;
    try {
      const cid = parseCid(cidText);
      const record = await this.metadata.get(cid.toString());
      if (record === null) throw new BlockError('missing_block', `no object ${cid} in this hub (never stored, expired or collected)`);
      dataType = record.data_type;
      // The stream counts and times itself as it is read.
      if (stream && FILE_TYPES.has(record.data_type)) return { record, content: this.streamContent(cid, record, started) };
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

  private async *streamContent(cid: CID, record: ObjectRecord, started: number): AsyncGenerator<Uint8Array> {
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of this.blocks.streamFile(cid, this.restoreTimeoutMs)) {
        hash.update(chunk);
        size += chunk.byteLength;
        // Handed on in 64 KiB views (no copy): a socket takes what it is given whole, so a slow client
        // holds 64 KiB in its send buffer, not a whole 1 MiB block, and backpressure acts at that grain.
        for (let at = 0; at < chunk.byteLength; at += STREAM_SLICE_BYTES) yield chunk.subarray(at, Math.min(chunk.byteLength, at + STREAM_SLICE_BYTES));
      }
      if (size !== record.size || hash.digest('hex') !== record.checksum) throw contentMismatch(cid);
      this.metrics?.ipfsOperationsTotal.inc({ operation: 'retrieve' });
    } catch (error) {
      if (error instanceof BlockError) this.countError(error.errorType);
      throw error;
    } finally {
      this.metrics?.ipfsRestoreLatencySeconds.observe({ data_type: record.data_type }, (performance.now() - started) / 1000);
    }
  }

  private checkContent(cid: CID, record: ObjectRecord, bytes: Uint8Array): void {
    if (bytes.length !== record.size || sha256Hex(bytes) !== record.checksum) throw contentMismatch(cid);
  }

  private withTimeout<T>(run: () => Promise<T>, cid: CID): Promise<T> {
    return withinTimeout(run(), this.restoreTimeoutMs, `restoring ${cid}`);
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
    const record = await this.metadata.setPinned(parseCid(cidText).toString(), true, () => 0);
    if (record === null) throw new FaiError(ErrorCodes.NOT_FOUND, `no object ${cidText}`, { field: 'cid' });
    this.metrics?.ipfsOperationsTotal.inc({ operation: 'pin' });
    return record;
  }

  /** Lets a pinned object expire again, its time to live counted from its creation. */
  async unpin(cidText: string): Promise<ObjectRecord> {
    const record = await this.metadata.setPinned(parseCid(cidText).toString(), false, (r) => Math.max(1, Math.round(this.ttl[r.data_type] - (this.now() - Date.parse(r.created_at)) / 1000)));
    if (record === null) throw new FaiError(ErrorCodes.NOT_FOUND, `no object ${cidText}`, { field: 'cid' });
    return record;
  }

  list(dataType: DataType, limit = 100): Promise<ObjectRecord[]> {
    return this.metadata.list(dataType, limit);
  }

  /**
   * Removes every block that no live record reaches (expired, never recorded, or orphaned by a
   * failed write). Pinned records never expire, so what they reach stays. One gc at a time: another
   * running (in this process, or anywhere sharing Redis) answers FAI_ERR_RUNBOOK_LOCKED.
   *
   * Stores run beside it: a store writes its blocks before its record, so a block without a record
   * may be a store in flight. gc spares every block written after its cutoff — the store's clock now
   * (the block store's own: a directory's is this host's, a bucket's is the server's), less how long
   * the oldest store still in flight anywhere has run, less `gcGraceMs` — and collects it on a later
   * run if it is still unreached. The temporary files of writes a crash cut short go the same way.
   */
  gc(): Promise<{ kept: number; removed: number; spared: number; tempRemoved: number }> {
    return this.cluster.exclusiveGc(() => this.collect());
  }

  private async collect(): Promise<{ kept: number; removed: number; spared: number; tempRemoved: number }> {
    // Write times come from the store's clock (a file's from the kernel's coarse clock, a few ms behind
    // Date.now(); an object's in whole seconds): a second of slack covers both.
    const [storeNow, oldestStore] = await Promise.all([this.blocks.clock(), this.cluster.oldestStoreAgeMs()]);
    const cutoff = storeNow - (oldestStore ?? 0) - this.gcGraceMs - CLOCK_SLACK_MS;
    // Keyed by multihash: the block store knows blocks by their hash only (it lists them as raw CIDs).
    const key = (cid: CID) => Buffer.from(cid.multihash.bytes).toString('hex');
    const live = new Set<string>();
    const pending: CID[] = [];
    for await (const cidText of this.metadata.cids()) pending.push(parseCid(cidText));
    while (pending.length > 0) {
      const cid = pending.pop()!;
      if (live.has(key(cid))) continue;
      live.add(key(cid));
      // gc never guesses: a block it cannot read (I/O error, missing, corrupt) may have children it
      // would then sweep as unreached. The mark phase aborts, and nothing at all is removed.
      try {
        pending.push(...(await this.blocks.links(cid)));
      } catch (error) {
        this.metrics?.hubGcRunsTotal.inc({ outcome: 'aborted' });
        throw gcAborted(cid, error);
      }
    }
    let kept = 0;
    let removed = 0;
    let spared = 0;
    for await (const { cid, modifiedAt } of this.blocks.list()) {
      if (live.has(key(cid))) kept++;
      else if ((modifiedAt ?? 0) >= cutoff) spared++;
      else {
        await this.blocks.delete(cid);
        removed++;
      }
    }
    const tempRemoved = await this.blocks.removeStaleTemp(cutoff);
    this.metrics?.hubGcRunsTotal.inc({ outcome: 'completed' });
    return { kept, removed, spared, tempRemoved };
  }

  /** What the metadata store skipped and why (files that are not records): /health names them. */
  problems(): string[] {
    return this.metadata.problems?.() ?? [];
  }

  async ping(): Promise<void> {
    await this.blocks.ping();
    await this.metadata.ping();
  }

  async close(): Promise<void> {
    this.cluster.close();
    await this.blocks.close();
    await this.metadata.close();
  }
}

/** Why a gc stopped before its sweep: 503 for an I/O fault (retry later), 500 for a missing or corrupt block (repair or delete its record). */
function gcAborted(cid: CID, error: unknown): FaiError {
  const damaged = error instanceof BlockError && error.errorType !== 'io' && error.errorType !== 'timeout';
  const what = error instanceof Error ? error.message : String(error);
  return new FaiError(
    damaged ? ErrorCodes.INTEGRITY : ErrorCodes.UNAVAILABLE,
    `gc aborted before its sweep, nothing removed: block ${cid}, reached from a live record, could not be read (${what})${damaged ? '; restore or delete the object that holds it' : '; run gc again later'}`,
    { cause: error },
  );
}
