import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FsBlockstore } from 'blockstore-fs';
import { NextToLast } from 'blockstore-fs/sharding';
import type { CID } from 'multiformats/cid';
import { syncDirectory, writeFileSynced } from '../system/index.ts';
import type { BlockBackend, ListedBlock } from './block-backend.ts';
import { BlockError } from './block-error.ts';
import { explainStorageError } from './storage-error.ts';

/** A storage failure as a BlockError of type `io`, worded by explainStorageError. */
async function storageError(error: unknown, path: string, what: string): Promise<BlockError> {
  const explained = await explainStorageError(error, path, what);
  return new BlockError('io', explained.message, { cause: error });
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; code?: string };
  return e.name === 'NotFoundError' || e.code === 'ERR_NOT_FOUND' || e.code === 'ENOENT';
}

let temporarySequence = 0;

/** Blocks in a directory (HUB_BLOCKSTORE=fs, the embedded default), in blockstore-fs's layout. */
export class FsBlockBackend implements BlockBackend {
  readonly kind = 'fs' as const;
  readonly where: string;
  private readonly store: FsBlockstore;
  /** blockstore-fs's default layout, held here too: durable writes and gc's file ages use it. */
  private readonly sharding = new NextToLast();
  private opened: Promise<void> | undefined;

  constructor(readonly directory: string) {
    this.where = directory;
    this.store = new FsBlockstore(directory, { shardingStrategy: this.sharding });
  }

  open(): Promise<void> {
    this.opened ??= this.store.open().catch(async (error: unknown) => {
      this.opened = undefined;
      throw await storageError(error, this.directory, 'cannot open the block directory');
    });
    return this.opened;
  }

  ping(): Promise<void> {
    return this.open();
  }

  async close(): Promise<void> {
    if (this.opened !== undefined) await this.store.close();
    this.opened = undefined;
  }

  async put(cid: CID, bytes: Uint8Array): Promise<void> {
    await this.open();
    await this.writeDurable(cid, bytes).catch(async (error: unknown) => {
      throw await storageError(error, this.directory, `cannot write block ${cid}`);
    });
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

  async get(cid: CID): Promise<Uint8Array> {
    await this.open();
    const chunks: Uint8Array[] = [];
    try {
      for await (const chunk of this.store.get(cid)) chunks.push(chunk);
    } catch (error) {
      if (isNotFound(error)) throw new BlockError('missing_block', `block ${cid} is not in this hub`);
      throw await storageError(error, this.directory, `cannot read block ${cid}`);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  async has(cid: CID): Promise<boolean> {
    await this.open();
    return this.store.has(cid);
  }

  async delete(cid: CID): Promise<void> {
    await this.open();
    await this.store.delete(cid);
  }

  async *list(): AsyncGenerator<ListedBlock> {
    await this.open();
    for await (const { cid } of this.store.getAll()) {
      const { dir, file } = this.sharding.encode(cid);
      const modifiedAt = await stat(join(this.directory, dir, file)).then(
        (info) => info.mtimeMs,
        () => undefined,
      );
      yield { cid, modifiedAt };
    }
  }

  /** This host's clock: the directory is on its disk, and the kernel stamps its files. */
  async clock(): Promise<number> {
    return Date.now();
  }

  /**
   * Removes the temporary files of writes that never finished (a kill -9 between the write and the
   * rename leaves one) last written before `before`: a younger one may be a write in flight.
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
}
