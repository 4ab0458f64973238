import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { alertmanagerConfig } from '../../src/ops/observability/alertmanager.ts';
import { freePort, requireBinary, stopChild, waitFor } from '../helpers/servers.ts';

/** The generated inhibition, on a live Alertmanager: a critical silences only the same alert about the same thing. */
describe('inhibition on a live Alertmanager', () => {
  let dir: string;
  let child: ChildProcess;
  let url: string;

  before(async () => {
    const binary = requireBinary('prometheus-alertmanager', 'prometheus-alertmanager');
    dir = await mkdtemp(join(tmpdir(), 'fai-inhibit-'));
    await writeFile(join(dir, 'token'), 'inhibit-test-token-0123456789');
    await writeFile(join(dir, 'alertmanager.yml'), stringify(alertmanagerConfig({ serviceUrl: 'http://127.0.0.1:9', webhookTokenFile: join(dir, 'token') })));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(binary, [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], { stdio: 'ignore' });
    await waitFor('alertmanager ready', async () => (await fetch(`${url}/-/ready`).then((r) => r.ok).catch(() => false)), 20_000);
  });
  after(async () => {
    if (child !== undefined) await stopChild(child, 'SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  const alert = (labels: Record<string, string>) => ({ labels: { runbook: 'none', ...labels }, annotations: {}, startsAt: new Date().toISOString() });

  it('keeps the warnings of other modes, models and components, and silences the same alert about the same thing', async () => {
    const alerts = [
      alert({ alertname: 'HighLLMLatency', severity: 'critical', mode: 'creative', model: 'llama' }),
      alert({ alertname: 'HighLLMLatency', severity: 'warning', mode: 'balanced', model: 'qwen' }),
      alert({ alertname: 'HighErrorRate', severity: 'critical', component: 'llm' }),
      alert({ alertname: 'HighErrorRate', severity: 'warning', component: 'hub' }),
      alert({ alertname: 'HighLLMLatency', severity: 'critical', mode: 'fast', model: 'mistral' }),
      alert({ alertname: 'HighLLMLatency', severity: 'warning', mode: 'fast', model: 'mistral' }),
    ];
    const posted = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    assert.equal(posted.status, 200, await posted.text());
    type Listed = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } };
    const warningOf = (listed: Listed[], labels: Record<string, string>) => listed.find((a) => a.labels.severity === 'warning' && Object.entries(labels).every(([k, v]) => a.labels[k] === v));
    let listed: Listed[] = [];
    await waitFor('the alerts evaluated', async () => {
      listed = (await (await fetch(`${url}/api/v2/alerts`)).json()) as Listed[];
      return listed.length === 6 && warningOf(listed, { mode: 'fast' })?.status.state === 'suppressed';
    }, 15_000);
    assert.deepEqual(warningOf(listed, { mode: 'balanced', model: 'qwen' })?.status.inhibitedBy, [], 'creative/llama\'s critical does not silence balanced/qwen');
    assert.deepEqual(warningOf(listed, { component: 'hub' })?.status.inhibitedBy, [], 'llm\'s critical does not silence hub');
    assert.equal(warningOf(listed, { mode: 'fast', model: 'mistral' })?.status.inhibitedBy.length, 1, 'the same alert about the same thing is silenced');
  });
});
