import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../system/index.ts';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { explainStorageError } from './storage-error.ts';

/** `shadow`: the comparisons behind a shadow evaluation report, as JSON lines (src/shadow). */
export const DATA_TYPES = ['recipe', 'feedback', 'checkpoint', 'shadow'] as const;
export type DataType = (typeof DATA_TYPES)[number];

/** One stored object's record (the issue's `{cid, size, data_type, created_at, tags, checksum}`, plus pin state). */
export interface ObjectRecord {
  readonly cid: string;
  /** Bytes of the object's content (the file for a checkpoint, the dag-json block otherwise). */
  readonly size: number;
  readonly data_type: DataType;
  /** ISO 8601. */
  readonly created_at: string;
  readonly tags: readonly string[];
  /** sha2-256 of the content, hex: what a client can check without IPFS tooling. */
  readonly checksum: string;
  readonly pinned: boolean;
}

export const ObjectRecordSchema = z.object({
  cid: z.string().min(1),
  size: z.number().int().nonnegative(),
  data_type: z.enum(DATA_TYPES),
  created_at: z.string().min(1),
  tags: z.array(z.string()),
  checksum: z.string().regex(/^[0-9a-f]{64}$/),
  pinned: z.boolean(),
});

/**
 * Where records live: Redis hashes when REDIS_URL is set (redis-metadata.ts), this directory
 * otherwise. Both expire a record `ttlSeconds` after it is written unless it is pinned, and
 * both list a data type through an index (never a scan of every key).
 */
export interface MetadataStore {
  readonly backend: 'redis' | 'embedded';
  /** Writes the record and its expiry (none when `ttlSeconds` is null). Resolves once durable. */
  put(record: ObjectRecord, ttlSeconds: number | null): Promise<void>;
  get(cid: string): Promise<ObjectRecord | null>;
  /** Newest first. */
  list(dataType: DataType, limit: number): Promise<ObjectRecord[]>;
  delete(cid: string): Promise<void>;
  /** Every live record's CID (for garbage collection). */
  cids(): AsyncGenerator<string>;
  /** Throws when the store cannot be reached (health checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

interface StoredRecord {
  record: ObjectRecord;
  /** Epoch ms, or null for no expiry. */
  expiresAt: number | null;
}

const Stored = z.object({ record: ObjectRecordSchema, expiresAt: z.number().nullable() });

/**
 * The embedded metadata store: one JSON file per record (written to a temporary file, fsynced,
 * then renamed, so a crash leaves the old record or the new one, never half of one), and an
 * in-memory index by data type built when the store opens. Expired records are dropped when they
 * are read or listed.
 */
export class EmbeddedMetadataStore implements MetadataStore {
  readonly backend = 'embedded' as const;
  private readonly directory: string;
  private readonly now: () => number;
  private readonly records = new Map<string, StoredRecord>();
  private readonly byType = new Map<DataType, Set<string>>(DATA_TYPES.map((t) => [t, new Set()]));
  private opened: Promise<void> | undefined;

  constructor(directory: string, now: () => number = Date.now) {
    this.directory = directory;
    this.now = now;
  }

  private open(): Promise<void> {
    this.opened ??= this.load().catch(async (error: unknown) => {
      this.opened = undefined;
      throw await explainStorageError(error, this.directory, 'cannot open the metadata directory');
    });
    return this.opened;
  }

  private async load(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    for (const name of await readdir(this.directory)) {
      if (!name.endsWith('.json')) continue;
      const parsed = Stored.safeParse(JSON.parse(await readFile(join(this.directory, name), 'utf8')));
      // A file that is not a record is left alone and reported, never silently taken for one.
      if (!parsed.success) throw new FaiError(ErrorCodes.STORAGE, `metadata file ${name} is not a record: ${parsed.error.issues[0]?.message}`);
      if (parsed.data.expiresAt !== null && parsed.data.expiresAt <= this.now()) continue;
      this.index(parsed.data);
    }
  }

  private index(stored: StoredRecord): void {
    this.records.set(stored.record.cid, stored);
    this.byType.get(stored.record.data_type)!.add(stored.record.cid);
  }

  private fileOf(cid: string): string {
    return join(this.directory, `${cid}.json`);
  }

  async put(record: ObjectRecord, ttlSeconds: number | null): Promise<void> {
    await this.open();
    const stored: StoredRecord = { record, expiresAt: ttlSeconds === null ? null : this.now() + ttlSeconds * 1000 };
    try {
      await writeFileAtomic(this.fileOf(record.cid), JSON.stringify(stored));
    } catch (error) {
      throw await explainStorageError(error, this.directory, `cannot write the record of ${record.cid}`);
    }
    this.index(stored);
  }

  private live(cid: string): StoredRecord | null {
    const stored = this.records.get(cid);
    if (stored === undefined) return null;
    if (stored.expiresAt !== null && stored.expiresAt <= this.now()) {
      // Gone from the index at once; a file that cannot be removed now is expired on disk too,
      // so the next open skips it again and the next gc retries the removal.
      this.delete(cid).catch(() => undefined);
      return null;
    }
    return stored;
  }

  async get(cid: string): Promise<ObjectRecord | null> {
    await this.open();
    return this.live(cid)?.record ?? null;
  }

  async list(dataType: DataType, limit: number): Promise<ObjectRecord[]> {
    await this.open();
    const out: ObjectRecord[] = [];
    for (const cid of this.byType.get(dataType)!) {
      const stored = this.live(cid);
      if (stored !== null) out.push(stored.record);
    }
    out.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
    return out.slice(0, limit);
  }

  async delete(cid: string): Promise<void> {
    await this.open();
    const stored = this.records.get(cid);
    if (stored === undefined) return;
    this.records.delete(cid);
    this.byType.get(stored.record.data_type)!.delete(cid);
    await unlink(this.fileOf(cid)).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw await explainStorageError(error, this.directory, `cannot delete the record of ${cid}`);
    });
  }

  async *cids(): AsyncGenerator<string> {
    await this.open();
    for (const cid of [...this.records.keys()]) if (this.live(cid) !== null) yield cid;
  }

  async ping(): Promise<void> {
    await this.open();
  }

  async close(): Promise<void> {
    this.opened = undefined;
    this.records.clear();
    for (const set of this.byType.values()) set.clear();
  }
}
