import { z } from 'zod';

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
 * Where records live: Redis hashes when REDIS_URL is set (redis-metadata.ts), one file per record
 * under HUB_DIR/meta otherwise (embedded-metadata.ts). Both expire a record `ttlSeconds` after it is written unless it is pinned, and
 * both list a data type through an index (never a scan of every key).
 */
export interface MetadataStore {
  readonly backend: 'redis' | 'embedded';
  /** Writes the record and its expiry (none when `ttlSeconds` is null), whatever was there. Resolves once durable. */
  put(record: ObjectRecord, ttlSeconds: number | null): Promise<void>;
  /**
   * Records a stored object, merged in one atomic step with the record already there (another store
   * of the same content, a pin racing it): the earlier `created_at`, the union of the tags, the pin as
   * it stands. It expires `ttlSeconds` from now unless pinned. Resolves with what was written, once durable.
   */
  upsert(record: ObjectRecord, ttlSeconds: number): Promise<ObjectRecord>;
  /**
   * Sets the pin in one atomic step against `upsert` (a store racing a pin cannot undo it); null when
   * there is no record. Pinned: no expiry; unpinned: `ttlSeconds(record)` from now.
   */
  setPinned(cid: string, pinned: boolean, ttlSeconds: (record: ObjectRecord) => number): Promise<ObjectRecord | null>;
  get(cid: string): Promise<ObjectRecord | null>;
  /** Newest first. */
  list(dataType: DataType, limit: number): Promise<ObjectRecord[]>;
  delete(cid: string): Promise<void>;
  /** Every live record's CID (for garbage collection). */
  cids(): AsyncGenerator<string>;
  /** Throws when the store cannot be reached (health checks). */
  ping(): Promise<void>;
  /** What the store skipped and why (files that do not read as records), for /health; none for Redis. */
  problems?(): string[];
  close(): Promise<void>;
}
