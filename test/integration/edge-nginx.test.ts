import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { OPERATOR } from '../helpers/operator.ts';
import { startNginxWith, type NginxServer } from '../helpers/servers.ts';

const EDGE = readFileSync(new URL('../../deploy/nginx/nginx.conf', import.meta.url), 'utf8');

/**
 * The stack's public edge (deploy/nginx/nginx.conf, as shipped: only the upstream address, the listen
 * port and the prefix's paths differ) in a real nginx in front of the service.
 */
describe('the nginx edge keeps operator routes off the public port', () => {
  let app: App;
  let edge: NginxServer;
  const operatorRoutes: Array<{ method: string; url: string }> = [];

  before(async () => {
    app = createApp(testConfig({ PORT: '0', ALERT_WEBHOOK_TOKEN: 'webhook-token-0123456789abcdef' }));
    app.server.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (['POST', 'PUT', 'DELETE'].includes(method) && !['/v1/briefs', '/v1/formulas', '/v1/compliance/check', '/v1/compliance/certificate'].includes(route.url)) {
          operatorRoutes.push({ method, url: route.url.replace(':cid', 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e').replace(':id', 'rollback-abc123').replace(':mode', 'creative') });
        }
      }
    });
    const address = await app.listen();
    edge = await startNginxWith(async ({ port, head }) => {
      const config = EDGE.replace('events {}', head.join('\n'))
        .replace('server fragrance-ai:8000;', `server ${new URL(address).host};`)
        .replace('listen 80;', `listen 127.0.0.1:${port};`)
        .replace('http {', 'http {\n  access_log off;');
      assert.notEqual(config, EDGE);
      return { config };
    });
  });
  after(async () => {
    await edge?.stop();
    await app?.close();
  });

  it('answers 403 at the edge for every operator route and the webhook, even with the operator token', async () => {
    assert.ok(operatorRoutes.length >= 12, JSON.stringify(operatorRoutes));
    for (const { method, url } of operatorRoutes) {
      const response = await fetch(`${edge.url}${url}`, { method, headers: { ...OPERATOR, 'content-type': 'application/json' }, body: '{}' });
      assert.equal(response.status, 403, `${method} ${url}`);
      assert.equal(response.headers.get('x-fai-instance'), null, `${method} ${url} never reached the service`);
    }
  });

  it('passes reads and the public POSTs to the service', async () => {
    const health = await fetch(`${edge.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.headers.get('x-fai-instance'), 'api');
    const check = await fetch(`${edge.url}/v1/compliance/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ formula: [{ material: 'Hedione', concentrationPct: 10 }], category: '4', dosagePct: 15 }),
    });
    assert.equal(check.status, 200, await check.text());
  });

  it('limits one client to its burst, answering 429 past it', async () => {
    const statuses = await Promise.all(Array.from({ length: 40 }, () => fetch(`${edge.url}/v1/llm/downshift`).then((r) => r.status)));
    assert.ok(statuses.includes(429), statuses.join(','));
    // The earlier tests' requests spent part of the burst: some of these pass, the rest are refused at the edge.
    assert.ok(statuses.includes(200), statuses.join(','));
  });
});
