import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { startRedis, waitFor, type RedisServer } from '../helpers/servers.ts';
import { OPERATOR } from '../helpers/operator.ts';

let redis: RedisServer;
let app: App;

before(async () => {
  redis = await startRedis();
  app = createApp(testConfig({ PORT: '0', REDIS_URL: redis.url, HEALTH_TIMEOUT_MS: '1000' }));
  await app.listen();
});
after(async () => {
  await app.close();
  await redis.stop();
});

const health = async () => {
  const response = await app.server.inject({ method: 'GET', url: '/health' });
  return { statusCode: response.statusCode, body: response.json() };
};

describe('/health with a real Redis (REDIS_URL set)', () => {
  it('stores the shipped policies once Redis answers, so the first formula is served (the soak found a start that raced the connection)', async () => {
    // listen() ran right after createApp opened the connection; the repository's pins name the shipped models.
    const served = await app.server.inject({ method: 'POST', url: '/v1/formulas', payload: { text: 'a fresh citrus cologne for summer' } });
    assert.equal(served.statusCode, 200, served.body);
  });

  it('is 200 and reports Redis up while it answers PING', async () => {
    await waitFor('redis reported up', async () => (await health()).statusCode === 200);
    const { body } = await health();
    assert.equal(body.status, 'healthy');
    assert.equal(body.services.redis.status, 'up');
    assert.equal(body.services.redis.required, true);
    assert.match(body.services.redis.detail, /^PING \d/);
  });

  it('is 503 naming Redis when it is killed, and recovers when it is back', async () => {
    await redis.kill();
    await waitFor('redis reported down', async () => (await health()).statusCode === 503);
    const down = await health();
    assert.equal(down.body.status, 'unhealthy');
    assert.equal(down.body.services.redis.status, 'down');
    assert.ok(down.body.services.redis.detail.length > 0, 'says why');
    assert.equal(down.body.services.metrics.status, 'up', 'the service itself stays up');
    // The hub keeps its metadata in this Redis: a write is refused with 503, and the service answers on.
    const refused = await app.server.inject({ method: 'POST', url: '/v1/hub/recipes', headers: { ...OPERATOR, 'content-type': 'application/json' }, payload: '{"name":"during the outage"}' });
    assert.deepEqual([refused.statusCode, refused.json().error.code], [503, 'FAI_ERR_UNAVAILABLE']);
    assert.equal((await app.server.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);

    await redis.restart();
    await waitFor('redis reported up again', async () => (await health()).statusCode === 200, 20_000);
    assert.equal((await health()).body.services.redis.status, 'up');
  });
});
