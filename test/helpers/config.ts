import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { TEST_ADMIN_TOKEN } from './operator.ts';

/** A configuration for a test app: silent, with its hub in a fresh temp directory, the suite's operator token and no rate limit. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', HUB_DIR: mkdtempSync(join(tmpdir(), 'fai-test-hub-')), FAI_ADMIN_TOKEN: TEST_ADMIN_TOKEN, RATE_LIMIT_PER_MINUTE: '0', ...env });
}
