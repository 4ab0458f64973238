import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { freePort, requireBinary, waitFor } from '../helpers/servers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('make monitor-local', () => {
  let app: App;
  let child: ChildProcess;
  let dir: string;
  let output = '';
  let prometheusUrl: string;
  let alertmanagerUrl: string;

  before(async () => {
    requireBinary('prometheus', 'prometheus');
    requireBinary('prometheus-alertmanager', 'prometheus-alertmanager');
    app = createApp(testConfig({ PORT: '0' }));
    const service = new URL(await app.listen()).host;
    dir = await mkdtemp(join(tmpdir(), 'fai-monitor-'));
    const [prometheusPort, alertmanagerPort] = [await freePort(), await freePort()];
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    alertmanagerUrl = `http://127.0.0.1:${alertmanagerPort}`;
    child = spawn('make', ['--no-print-directory', 'monitor-local'], {
      cwd: ROOT,
      env: { ...process.env, FAI_SERVICE: service, PROMETHEUS_PORT: String(prometheusPort), ALERTMANAGER_PORT: String(alertmanagerPort), MONITOR_DIR: dir },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    await waitFor('monitor-local ready', async () => output.includes('Ctrl-C stops both'), 60_000).catch((error) => {
      throw new Error(`${String(error)}\n${output}`);
    });
  });

  after(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs Prometheus with the generated rules, scraping the service', async () => {
    await waitFor('the service scraped', async () => {
      const body = (await (await fetch(`${prometheusUrl}/api/v1/query?query=up{job="fragrance-ai"}`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
      return body.data.result[0]?.value[1] === '1';
    }, 30_000);
    const rules = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ name: string }> } };
    assert.deepEqual(rules.data.groups.map((g) => g.name).sort(), ['fragrance-ai.alerts', 'fragrance-ai.recording', 'fragrance-ai.recording.slow']);
    await waitFor('Prometheus sends to the Alertmanager', async () => {
      const body = (await (await fetch(`${prometheusUrl}/api/v1/alertmanagers`)).json()) as { data: { activeAlertmanagers: unknown[] } };
      return body.data.activeAlertmanagers.length === 1;
    }, 20_000);
  });

  it('runs Alertmanager with the generated routes, the automation webhook pointing at the service', async () => {
    const status = (await (await fetch(`${alertmanagerUrl}/api/v2/status`)).json()) as { config: { original: string }; cluster: { status: string } };
    assert.match(status.config.original, /\/v1\/alerts\/webhook/);
    assert.match(status.config.original, /team-critical/);
    assert.equal(status.cluster.status, 'disabled', 'no cluster port opened');
  });

  it('stops both on SIGTERM', async () => {
    assert.ok(child.pid !== undefined);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid, 'SIGTERM');
    await exited;
    await assert.rejects(fetch(`${prometheusUrl}/-/ready`));
  });
});
