#!/usr/bin/env node
// Entry point of the `fai` command. Runs the compiled CLI (dist/, built by `make build`, which `make run`
// and `make test` do first): a one-shot command runs its bundle (dist/cli-bundle/: a few files to load
// instead of some 150 modules, so it starts in about half the time); `serve` and `worker`, which run for
// long, run the tsc output. In a checkout that has not been built yet, the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const command = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
const bundled = new URL('../dist/cli-bundle/main.js', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (command !== 'serve' && command !== 'worker' && existsSync(bundled)) {
  await import(bundled.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
