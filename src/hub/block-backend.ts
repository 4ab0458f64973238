import type { CID } from 'multiformats/cid';

/** A block as the store lists it, with when the store last wrote it (its own clock), when it says. */
export interface ListedBlock {
  readonly cid: CID;
  /** ms since the epoch by the store's clock; undefined when the store cannot tell. */
  readonly modifiedAt: number | undefined;
}

/**
 * Where blocks live: a directory (`fs`, the embedded default) or an S3-compatible bucket (`s3`, shared
 * by every host). Raw bytes only: BlockStore verifies every read against its CID and builds UnixFS
 * files on top. Every failure is a BlockError: `missing_block` for a block that is not there,
 * `unavailable` for a store that does not answer, `io` for the rest.
 */
export interface BlockBackend {
  /** For messages and /health: the directory, or s3://bucket at the endpoint. */
  readonly where: string;
  readonly kind: 'fs' | 's3';
  open(): Promise<void>;
  /** Asks the store now whether it answers (for /health). */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Durable once resolved: an acknowledged write survives a crash of this process or the store's. */
  put(cid: CID, bytes: Uint8Array): Promise<void>;
  get(cid: CID): Promise<Uint8Array>;
  has(cid: CID): Promise<boolean>;
  delete(cid: CID): Promise<void>;
  /** Every block in the store, with its write time (for garbage collection). */
  list(): AsyncGenerator<ListedBlock>;
  /** The store's own clock now (ms since the epoch): gc compares write times with it, not with this host's clock. */
  clock(): Promise<number>;
  /** Removes what writes a crash cut short, last written before `before` (store clock); resolves with how many. */
  removeStaleTemp(before: number): Promise<number>;
}
