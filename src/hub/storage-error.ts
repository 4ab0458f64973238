import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCodes, FaiError } from '../errors/index.ts';

/** The nearest existing directory at or above `path`, and whether this process may write there. */
async function writableAncestor(path: string): Promise<{ dir: string; problem: string | null }> {
  let dir = path;
  for (;;) {
    try {
      await access(dir, constants.F_OK);
      break;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  try {
    await access(dir, constants.W_OK);
    return { dir, problem: null };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { dir, problem: code === 'EROFS' ? 'is on a read-only file system' : 'is not writable by this user' };
  }
}

/**
 * Turns a file-system failure into a FAI_ERR_STORAGE that says what is wrong with the disk — full,
 * read-only, not writable — rather than the raw errno (blockstore-fs reports a failed mkdir on a
 * read-only disk as ENOENT, for one).
 */
export async function explainStorageError(error: unknown, path: string, what: string): Promise<FaiError> {
  if (error instanceof FaiError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? (error as { cause?: NodeJS.ErrnoException }).cause?.code;
  const message = String((error as Error).message ?? error);
  if (code === 'ENOSPC' || /ENOSPC/.test(message)) return new FaiError(ErrorCodes.STORAGE, `${what}: the disk is full (${path})`, { cause: error });
  const { dir, problem } = await writableAncestor(path);
  if (problem !== null) return new FaiError(ErrorCodes.STORAGE, `${what}: ${dir} ${problem}`, { cause: error });
  if (code === 'ENOTDIR' || code === 'EEXIST') return new FaiError(ErrorCodes.STORAGE, `${what}: ${path} is not a directory`, { cause: error });
  return new FaiError(ErrorCodes.STORAGE, `${what}: ${message}`, { cause: error });
}
