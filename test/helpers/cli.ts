import './operator.ts';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The `fai` command as a user runs it: the compiled CLI (dist/) once `make build` has run. */
export const FAI = `${ROOT}bin/fai.js`;

let checked = false;
/**
 * bin/fai.js runs dist/ when it is built: a test of it after a source change would test the old code.
 * `make test` builds first; a test run by hand after an edit stops here and says so.
 */
export function assertBuildCurrent(): void {
  if (checked) return;
  let built: number;
  try {
    built = statSync(join(ROOT, 'dist/.built')).mtimeMs;
  } catch {
    checked = true;
    return; // never built: bin/fai.js runs the sources through tsx
  }
  const newer = readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: true }).find(
    (entry) => entry.isFile() && statSync(join(entry.parentPath, entry.name)).mtimeMs > built,
  );
  if (newer !== undefined) throw new Error(`dist/ is older than ${join(newer.parentPath, newer.name)}: run \`make build\` (make test does) before tests that run bin/fai.js`);
  checked = true;
}

/** Runs `bin/fai.js` as a user would (from the repository root), with extra environment; resolves with its exit code and output. */
export function runFai(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  assertBuildCurrent();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FAI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
