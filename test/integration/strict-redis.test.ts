import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { OPERATOR } from '../helpers/operator.ts';
import { startRedis, waitFor, type RedisServer } from '../helpers/servers.ts';

/**
 * Forced strict regulation mode with Redis: set through one instance, enforced by every instance
 * (two services and a third started later, one real Redis), and still enforced by the last known
 * state while Redis is down.
 */
let redis: RedisServer;
const apps: App[] = [];

async function start(): Promise<string> {
  const app = createApp(testConfig({ PORT: '0', REDIS_URL: redis.url, WORKER_ID: `instance-${apps.length + 1}` }));
  apps.push(app);
  return app.listen();
}

const forced = async (url: string) => ((await (await fetch(`${url}/v1/compliance/strict`)).json()) as { forced: boolean; by: string | null }).forced;
/** A check that passes unless strict: a material the data does not know is `unknown`, a fail only in strict mode. */
const verdict = async (url: string) =>
  ((await (
    await fetch(`${url}/v1/compliance/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ category: '4', dosagePct: 15, formula: [{ material: 'Unobtainium', concentrationPct: 1 }] }) })
  ).json()) as { verdict: string }).verdict;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  for (const app of apps) await app.close();
  await redis?.stop();
});

describe('forced strict mode shared through Redis', () => {
  it('set through one instance holds on every instance within 2 s, a new instance starts with it, and a lift through another clears it', async () => {
    const a = await start();
    const b = await start();
    assert.equal(await verdict(a), 'unknown');
    const on = await fetch(`${b}/v1/compliance/strict`, { method: 'PUT', headers: OPERATOR });
    assert.equal(on.status, 200);
    const started = Date.now();
    await waitFor('strict mode on the other instance', async () => forced(a), 2_000);
    assert.ok(Date.now() - started <= 2_000);
    assert.equal(await verdict(a), 'fail', 'the other instance checks strictly');
    const c = await start();
    assert.equal(await forced(c), true, 'an instance started now reads it before its first request');
    const off = await fetch(`${a}/v1/compliance/strict`, { method: 'DELETE', headers: OPERATOR });
    assert.equal(off.status, 200);
    await waitFor('strict mode lifted everywhere', async () => !(await forced(b)) && !(await forced(c)), 2_000);
    assert.equal(await verdict(c), 'unknown');
  });

  it('keeps the last known state while Redis is down, and a change then answers 503 naming Redis', async () => {
    const url = await start();
    assert.equal((await fetch(`${url}/v1/compliance/strict`, { method: 'PUT', headers: OPERATOR })).status, 200);
    await redis.kill();
    // Past a few polls: the instance still enforces it.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.equal(await forced(url), true);
    assert.equal(await verdict(url), 'fail');
    const lift = await fetch(`${url}/v1/compliance/strict`, { method: 'DELETE', headers: OPERATOR });
    assert.equal(lift.status, 503);
    assert.match(((await lift.json()) as { error: { message: string } }).error.message, /redis DEL \(shared strict mode\) failed/);
    assert.equal(await forced(url), true, 'a change Redis did not take changes nothing here');
  });
});
