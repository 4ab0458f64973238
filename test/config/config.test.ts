import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { loadConfig } from '../../src/config/index.ts';
import { FaiError } from '../../src/errors/index.ts';

function configError(env: Record<string, string>): FaiError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof FaiError);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.redisUrl, undefined);
    assert.deepEqual(config.llmUrls, { qwen: undefined, mistral: undefined, llama: undefined });
    assert.equal(config.workerId, 'api');
  });

  it('reads the production backends from the environment', () => {
    const config = loadConfig({ PORT: '9100', REDIS_URL: 'redis://127.0.0.1:6380/2', LLM_QWEN_URL: 'http://127.0.0.1:8001/v1' });
    assert.equal(config.port, 9100);
    assert.equal(config.redisUrl, 'redis://127.0.0.1:6380/2');
    assert.equal(config.llmUrls.qwen, 'http://127.0.0.1:8001/v1');
  });

  it('treats an empty variable as unset', () => {
    assert.equal(loadConfig({ REDIS_URL: '' }).redisUrl, undefined);
  });

  it('names the variable that is wrong', () => {
    for (const [env, field] of [
      [{ PORT: 'eighty' }, 'env.PORT'],
      [{ PORT: '70000' }, 'env.PORT'],
      [{ PORT: '-1' }, 'env.PORT'],
      [{ PORT: '80.5' }, 'env.PORT'],
      [{ REDIS_URL: 'localhost:6379' }, 'env.REDIS_URL'],
      [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'env.REDIS_URL'],
      [{ LLM_LLAMA_URL: 'ftp://x' }, 'env.LLM_LLAMA_URL'],
      [{ LOG_LEVEL: 'loud' }, 'env.LOG_LEVEL'],
      [{ GPU_POLL_SECONDS: '0' }, 'env.GPU_POLL_SECONDS'],
    ] as const) {
      const error = configError(env);
      assert.equal(error.code, 'FAI_ERR_CONFIG');
      assert.equal(error.field, field, JSON.stringify(env));
      assert.ok(error.message.startsWith(`${field}:`), error.message);
    }
  });

  it('never crashes on arbitrary environments: a Config or a FAI_ERR_CONFIG', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('PORT', 'HOST', 'REDIS_URL', 'LLM_QWEN_URL', 'LOG_LEVEL', 'BODY_LIMIT_BYTES'), fc.string()), (env) => {
        try {
          loadConfig(env);
        } catch (error) {
          assert.ok(error instanceof FaiError && error.code === 'FAI_ERR_CONFIG', String(error));
        }
      }),
    );
  });
});
