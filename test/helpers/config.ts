import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config/index.ts';

/** A configuration for a test app: silent, with its hub in a fresh temp directory. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', HUB_DIR: mkdtempSync(join(tmpdir(), 'fai-test-hub-')), ...env });
}
