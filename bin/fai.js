#!/usr/bin/env node
// Entry point of the `fai` command. Runs the compiled CLI (dist/, built by `make build`, which `make run`
// and `make test` do first); in a checkout that has not been built yet, the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
