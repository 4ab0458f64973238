import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

let sequence = 0;

/**
 * Writes a file so a reader (or a crash) sees the old content or the new, never half: the bytes go to
 * a temporary file beside it, are fsynced, and the temporary file is renamed over the target. Each
 * write has its own temporary name (pid and a sequence number), so concurrent writes of the same file
 * in one process do not collide; the last rename wins.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.${++sequence}.tmp`;
  try {
    await writeFileSynced(temporary, data);
    await rename(temporary, path);
    // The rename is an entry in the directory: durable only once the directory is synced too.
    await syncDirectory(dirname(path));
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * Writes `data` to a file opened with `flag` — `w` (replace), `a` (append), `wx` (create, failing with
 * EEXIST when it exists) — and fsyncs it before closing: once this resolves, the bytes survive a crash.
 */
export async function writeFileSynced(path: string, data: string | Uint8Array, flag: 'w' | 'a' | 'wx' = 'w'): Promise<void> {
  const handle = await open(path, flag);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * fsyncs a directory: a file created, renamed into or removed from it survives a power cut only
 * once its directory entry is synced (Linux; where a directory cannot be opened for sync, as on
 * Windows, this does nothing).
 */
export async function syncDirectory(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR') throw error;
  } finally {
    await handle.close();
  }
}
