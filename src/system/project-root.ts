import { existsSync } from 'node:fs';

/**
 * The project's root directory (the one holding package.json), found by walking up from this module.
 * The same for the TypeScript sources (src/system/) and the compiled output (dist/system/), so files
 * kept at the root — models/, examples/ — are found from either.
 */
export const PROJECT_ROOT: URL = findProjectRoot(new URL('.', import.meta.url));

function findProjectRoot(from: URL): URL {
  for (let dir = from; ; ) {
    if (existsSync(new URL('package.json', dir))) return dir;
    const up = new URL('..', dir);
    if (up.href === dir.href) return new URL('../../', from);
    dir = up;
  }
}
