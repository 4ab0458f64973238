import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.ts';
import { createApp } from './app.ts';

/**
 * The OpenAPI document of the service as it is built: an app on the embedded defaults (its hub in a
 * temporary directory), never listening, asked what GET /openapi.json answers. `fai ops generate`
 * writes it to docs/openapi.json.
 */
export async function openApiDocument(): Promise<unknown> {
  const hubDir = await mkdtemp(join(tmpdir(), 'fai-openapi-'));
  const app = createApp(loadConfig({ LOG_LEVEL: 'silent', HUB_DIR: hubDir }));
  try {
    await app.server.ready();
    return app.server.swagger();
  } finally {
    await app.close();
    await rm(hubDir, { recursive: true, force: true });
  }
}
