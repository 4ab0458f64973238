import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { catalogueEntries } from '../../src/metrics/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { requireBinary, startPrometheus, waitFor, type PrometheusServer } from '../helpers/servers.ts';

let app: App;
let address: string;

before(async () => {
  app = createApp(testConfig({ PORT: '0' }));
  address = await app.listen();
  // Drive the producers that exist so far, through their real code paths.
  for (let i = 0; i < 5; i++) await fetch(`${address}/health`);
  await fetch(`${address}/health/llm`); // a 400
  // Traffic that system_rps counts (probes and scrapes are not): six reads of the strict mode.
  for (let i = 0; i < 6; i++) await fetch(`${address}/v1/compliance/strict`);
});
after(async () => {
  await app.close();
});

/**
 * Lint problems promtool may report for names the operations guide fixed
 * (DESIGN.md keeps them because users already chart them). Anything else fails.
 */
const GUIDE_NAME_PROBLEMS = [/^llm_brief_elapsed_ms\b/, /^ipfs_store_rate\b/, /^system_error_rate\b/, /^system_rps\b/];

describe('/metrics exposition', () => {
  it('passes `promtool check metrics` with no problem beyond the guide names', async () => {
    const promtool = requireBinary('promtool', 'prometheus');
    const text = await (await fetch(`${address}/metrics`)).text();
    const result = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const problems = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
    const unexpected = problems.filter((line) => !GUIDE_NAME_PROBLEMS.some((allowed) => allowed.test(line)));
    assert.deepEqual(unexpected, [], 'promtool found problems');
    assert.ok(result.status === 0 || problems.length > 0, `promtool exit ${result.status} without a reported problem`);
  });

  describe('scraped by a real Prometheus', () => {
    let prometheus: PrometheusServer;
    before(async () => {
      prometheus = await startPrometheus([new URL(address).host]);
    });
    after(async () => {
      await prometheus.stop();
    });

    it('is ingested: the target is up and the produced series are queryable', async () => {
      await waitFor('the first scrape', async () => (await prometheus.query('up'))[0]?.value[1] === '1', 20_000);
      await waitFor('request counters', async () => (await prometheus.query('system_requests_total{service="api"}')).length === 1, 10_000);
      const requests = await prometheus.query('system_requests_total{service="api"}');
      assert.ok(Number(requests[0]?.value[1]) >= 6, 'the driven requests were counted');
      const rps = await prometheus.query('system_rps{service="api"}');
      assert.ok(Number(rps[0]?.value[1]) > 0);
      const errorRate = await prometheus.query('system_error_rate{component="health",error_type="client_error"}');
      assert.ok(Number(errorRate[0]?.value[1]) > 0, 'the 400 shows in the error rate');
      const cpu = await prometheus.query('worker_cpu_percent{worker_id="api"}');
      assert.equal(cpu.length, 1);
      assert.equal((await prometheus.query('worker_vram_bytes')).length, 0, 'no GPU here: absent, not zero');
      // Every catalogue family reached Prometheus' metadata, including those without series yet.
      const metadata = (await (await fetch(`${prometheus.url}/api/v1/targets/metadata?match_target={job="fragrance-ai"}`)).json()) as {
        data: Array<{ metric: string; type: string }>;
      };
      const known = new Map(metadata.data.map((m) => [m.metric, m.type]));
      for (const [, def] of catalogueEntries()) assert.equal(known.get(def.name), def.type, def.name);
    });
  });
});
