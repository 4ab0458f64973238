import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { DownshiftController, SharedDownshifts } from '../../src/llm/index.ts';
import { AuditLog } from '../../src/runbooks/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { OPERATOR } from '../helpers/operator.ts';
import { startRedis, waitFor, type RedisServer } from '../helpers/servers.ts';

/**
 * Forced downshifts with Redis: every instance's, surviving a restart, and a lapse audited once
 * however many instances see it (two services and a third started later, one Redis, one audit log).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'downshift-redis-test-token-0123456789';

let dir: string;
let redis: RedisServer;
const apps: App[] = [];
const urls: string[] = [];

async function start(): Promise<string> {
  const app = createApp(
    testConfig({
      PORT: '0',
      REDIS_URL: redis.url,
      WORKER_ID: `instance-${apps.length + 1}`,
      ALERT_WEBHOOK_TOKEN: TOKEN,
      FAI_DEPLOYMENT: join(dir, 'deployment.json'),
      REMEDIATION_POLICY: `${ROOT}/configs/remediation.yml`,
    }),
  );
  apps.push(app);
  const url = await app.listen();
  urls.push(url);
  return url;
}

const creative = async (url: string) =>
  ((await (await fetch(`${url}/v1/llm/downshift`)).json()) as { modes: Array<{ mode: string; active: boolean; forced: boolean; forcedBy: string | null }> }).modes.find((m) => m.mode === 'creative')!;
const servedIn = async (url: string) =>
  ((await (await fetch(`${url}/v1/briefs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a warm amber', mode: 'creative' }) })).json()) as { mode: string }).mode;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fai-downshift-redis-'));
  redis = await startRedis();
  await writeFile(join(dir, 'deployment.json'), JSON.stringify({ stateDir: join(dir, 'state'), service: 'http://127.0.0.1:1' }));
  await start();
  await start();
});

after(async () => {
  for (const app of apps) await app.close();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('forced downshifts shared through Redis', () => {
  it('a force on one instance downshifts every instance; a clear on another lifts it everywhere', async () => {
    const [a, b] = urls as [string, string];
    const forced = await fetch(`${a}/v1/llm/downshift/creative?ttlSeconds=600`, { method: 'PUT', headers: { ...OPERATOR, 'x-fai-on-behalf-of': 'alertmanager (rule HighLLMLatency)' } });
    assert.equal(forced.status, 200);
    await waitFor('the other instance forced too', async () => (await creative(b)).forced, 5_000);
    assert.equal((await creative(b)).forcedBy, 'alertmanager (rule HighLLMLatency)');
    assert.equal(await servedIn(b), 'balanced');
    // An instance started now (a restart) starts with it.
    const c = await start();
    assert.equal((await creative(c)).forced, true, 'read before the first request');
    assert.equal(await servedIn(c), 'balanced');
    const cleared = await fetch(`${b}/v1/llm/downshift/creative`, { method: 'DELETE', headers: OPERATOR });
    assert.equal(cleared.status, 200);
    await waitFor('every instance serves creative again', async () => !(await creative(a)).forced && !(await creative(c)).forced, 5_000);
    assert.equal(await servedIn(a), 'creative');
  });

  it('a forced downshift that lapses is lifted on every instance and audited once', async () => {
    const forced = await fetch(`${urls[0]}/v1/llm/downshift/balanced?ttlSeconds=4`, { method: 'PUT', headers: { ...OPERATOR, 'x-fai-on-behalf-of': 'alertmanager (rule HighLLMLatency)' } });
    assert.equal(forced.status, 200);
    const balanced = async (url: string) => ((await (await fetch(`${url}/v1/llm/downshift`)).json()) as { modes: Array<{ mode: string; forced: boolean }> }).modes.find((m) => m.mode === 'balanced')!;
    await waitFor('all three forced', async () => (await Promise.all(urls.map(balanced))).every((m) => m.forced), 3_000);
    await waitFor('all three lapsed', async () => (await Promise.all(urls.map(balanced))).every((m) => !m.forced), 8_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const lapses = (await new AuditLog(join(dir, 'state', 'audit.jsonl')).entries()).filter((e) => e.actor === 'downshift controller (TTL)');
    assert.equal(lapses.length, 1, 'one lapse, one audit entry, whichever instance saw it first');
    assert.deepEqual(lapses[0]!.args, { mode: 'balanced', clear: true });
  });

  it('reads past a damaged field, forcing nothing with it, and says which', async () => {
    const client = new Redis(redis.url);
    try {
      await client.hset('fai:llm:downshift:forced', 'creative', '{not json', 'turbo', '{}');
      const controller = new DownshiftController();
      const errors: unknown[] = [];
      await controller.share(new SharedDownshifts(client), { onError: (error) => errors.push(error) });
      controller.stopSharing();
      assert.equal(controller.status().find((m) => m.mode === 'creative')!.forced, false);
      assert.match(String(errors[0]), /unreadable fields of the shared downshift state, ignored: creative, turbo/);
      await client.del('fai:llm:downshift:forced');
    } finally {
      client.disconnect();
    }
  });

  it('keeps enforcing a forced downshift while Redis is unreachable (the last state it read), on every instance', async () => {
    const [a, b] = urls as [string, string];
    assert.equal((await fetch(`${a}/v1/llm/downshift/creative?ttlSeconds=600`, { method: 'PUT', headers: OPERATOR })).status, 200);
    await waitFor('the other instance forced too', async () => (await creative(b)).forced, 2_000);
    await redis.kill();
    // Several polls of the shared state fail meanwhile: the instances keep what they last read.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    for (const url of [a, b]) {
      assert.equal((await creative(url)).forced, true, url);
      assert.equal(await servedIn(url), 'balanced', `${url} still downshifts`);
    }
    await redis.restart();
    await waitFor('Redis back', async () => (await fetch(`${a}/v1/llm/downshift/creative`, { method: 'DELETE', headers: OPERATOR })).status === 200, 10_000);
    await waitFor('lifted everywhere', async () => !(await creative(a)).forced && !(await creative(b)).forced, 5_000);
  });

  it('answers 503 and changes nothing while Redis is down', async () => {
    await redis.kill();
    const forced = await fetch(`${urls[0]}/v1/llm/downshift/creative`, { method: 'PUT', headers: OPERATOR });
    assert.equal(forced.status, 503);
    assert.match(((await forced.json()) as { error: { message: string } }).error.message, /shared downshift state/);
    assert.equal((await creative(urls[0]!)).forced, false);
    assert.equal(await servedIn(urls[0]!), 'creative', 'briefs go on while Redis is down');
  });
});
