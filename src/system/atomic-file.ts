import { open, rename, unlink } from 'node:fs/promises';

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
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** Appends `text` to a file (created if missing) and fsyncs it: once this resolves, the line survives a crash. */
export async function appendFileSynced(path: string, text: string): Promise<void> {
  const handle = await open(path, 'a');
  try {
    await handle.write(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
