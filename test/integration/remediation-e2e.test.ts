import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { observability, thresholdsTable } from '../../src/ops/index.ts';
import { DiskRemediationStore, type Action } from '../../src/remediation/index.ts';
import { AuditLog, parseWeights, renderUpstream, type Deployment, parseDeployment } from '../../src/runbooks/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { startQuickMonitor } from '../helpers/monitor.ts';
import { startLlmServer, VALID_BRIEF, type LlmTestServer } from '../helpers/llm-server.ts';
import { freePort, requireBinary, startNginx, waitFor, type NginxServer } from '../helpers/servers.ts';

/**
 * The closed loop end to end with the real servers: the service's creative briefs cross the
 * HighLLMLatency bound (the creative slot, a test LLM, answers in 3.5 s), a real Prometheus evaluates
 * the generated rule (its window and `for` shortened to seconds), a real Alertmanager (no cluster
 * port) posts to the webhook with the bearer token, and the shipped policy does what the alert says:
 * the downshift runbook downshifts the alert's mode (creative → balanced, whose slot is fast), and
 * leaves the real nginx's traffic where it is.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEMPLATE = `${ROOT}/configs/nginx/upstream.conf.tmpl`;
const TOKEN = 'e2e-webhook-token-0123456789abcdef';

let llm: LlmTestServer;
let quick: LlmTestServer;
let stable: App;
let canary: App;
let nginx: NginxServer;
let monitor: observability.Monitor;
let dir: string;
let deployment: Deployment;
let store: DiskRemediationStore;
let stableUrl: string;
const timeline: Record<string, number> = {};
let stopSlowBriefs: () => Promise<void> = async () => undefined;

async function slowBriefs(count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, () =>
      fetch(`${stableUrl}/v1/briefs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a warm amber for winter evenings, no musk', mode: 'creative' }) }).then((r) => {
        assert.equal(r.status, 200);
        return r.arrayBuffer();
      }),
    ),
  );
}

/** Keeps slow briefs coming (one every 700 ms) so the alert stays firing; the returned function stops them. */
function sustainSlowBriefs(): () => Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const request = slowBriefs(1).finally(() => inFlight.delete(request));
    inFlight.add(request);
  }, 700);
  return async () => {
    clearInterval(timer);
    await Promise.all(inFlight);
  };
}

async function prometheusAlert(): Promise<{ state: string; activeAt: string; labels: Record<string, string> } | undefined> {
  const body = (await (await fetch(`${monitor.prometheusUrl}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string; activeAt: string }> } };
  return body.data.alerts.find((a) => a.labels.alertname === 'HighLLMLatency' && a.labels.severity === 'warning');
}

const actions = async (): Promise<Action[]> => (await store.list()).filter((a) => a.runbook === 'downshift');

before(async () => {
  requireBinary('prometheus', 'prometheus');
  requireBinary('prometheus-alertmanager', 'prometheus-alertmanager');
  dir = await mkdtemp(join(tmpdir(), 'fai-remediation-e2e-'));
  llm = await startLlmServer('llama');
  llm.setDefault({ kind: 'valid', brief: VALID_BRIEF, latencyMs: 3_500 });
  // Balanced tries qwen first: a quick one, so a downshifted creative request is fast.
  quick = await startLlmServer('qwen');
  quick.setDefault({ kind: 'valid', brief: VALID_BRIEF });
  const [stablePort, canaryPort, prometheusPort, alertmanagerPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const instances = { stable: `127.0.0.1:${stablePort}`, canary: `127.0.0.1:${canaryPort}` };
  nginx = await startNginx(renderUpstream(await readFile(TEMPLATE, 'utf8'), instances, { stable: 100, canary: 0 }));
  const deploymentJson = {
    stateDir: join(dir, 'state'),
    service: `http://${instances.stable}`,
    prometheus: `http://127.0.0.1:${prometheusPort}`,
    alertmanager: `http://127.0.0.1:${alertmanagerPort}`,
    nginx: { binary: 'nginx', prefix: nginx.prefix, config: nginx.config, upstreamFile: nginx.upstreamFile, template: TEMPLATE, url: nginx.url },
    instances,
  };
  await writeFile(join(dir, 'deployment.json'), JSON.stringify(deploymentJson));
  deployment = parseDeployment(deploymentJson, dir);
  stable = createApp(
    testConfig({
      PORT: String(stablePort),
      WORKER_ID: 'stable',
      LLM_LLAMA_URL: llm.url,
      LLM_QWEN_URL: quick.url,
      ALERT_WEBHOOK_TOKEN: TOKEN,
      FAI_DEPLOYMENT: join(dir, 'deployment.json'),
      REMEDIATION_POLICY: `${ROOT}/configs/remediation.yml`,
    }),
  );
  canary = createApp(testConfig({ PORT: String(canaryPort), WORKER_ID: 'canary' }));
  stableUrl = await stable.listen();
  await canary.listen();
  // One quick brief first: the latency series must exist before the slow ones, or rate() sees no increase.
  llm.enqueue({ kind: 'valid', brief: VALID_BRIEF, latencyMs: 0 });
  await slowBriefs(1);
  store = new DiskRemediationStore(join(deployment.stateDir, 'remediation'));

  // The generated HighLLMLatency rule, its window and `for` shortened so the test takes seconds.
  const row = thresholdsTable.find((r) => r.id === 'llm_brief_latency_p95')!;
  assert.equal(row.measure.kind, 'quantile');
  const fast = { ...row, measure: { ...row.measure, windowSeconds: 5 }, alert: { ...row.alert, for: '1s' } } as typeof row;
  monitor = await startQuickMonitor({ service: instances.stable, directory: dir, rows: [fast], prometheusPort, alertmanagerPort, webhookToken: TOKEN });
});

after(async () => {
  await stopSlowBriefs();
  await monitor?.stop();
  await nginx?.stop();
  await stable?.close();
  await canary?.close();
  await llm?.stop();
  await quick?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('closed loop: Prometheus → Alertmanager → webhook → downshift of the slow mode, nginx untouched (real servers)', () => {
  it('refuses a webhook call without the token or with a wrong one, and a malformed payload', async () => {
    const post = (headers: Record<string, string>, body: string) => fetch(`${stableUrl}/v1/alerts/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const valid = JSON.stringify({ version: '4', groupKey: 'g', status: 'firing', receiver: 'automation', alerts: [] });
    const none = await post({}, valid);
    assert.equal(none.status, 401);
    assert.match(((await none.json()) as { error: { message: string } }).error.message, /needs a bearer token/);
    const wrong = await post({ authorization: 'Bearer not-the-token-at-all-000' }, valid);
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { error: { message: string } }).error.message, /wrong bearer token/);
    const malformed = await post({ authorization: `Bearer ${TOKEN}` }, '{"version": "4", "alerts": [');
    assert.equal(malformed.status, 400);
    const wrongVersion = await post({ authorization: `Bearer ${TOKEN}` }, JSON.stringify({ version: '3', groupKey: 'g', status: 'firing', receiver: 'automation', alerts: [] }));
    assert.equal(wrongVersion.status, 400);
    assert.match(((await wrongVersion.json()) as { error: { message: string } }).error.message, /version/);
    assert.deepEqual(await actions(), [], 'nothing refused at the door left a trace as an action');
  });

  it('a firing alert downshifts the mode it is about, once: verified on the service, nginx untouched, then audited', async (t) => {
    assert.deepEqual(parseWeights(await readFile(nginx.upstreamFile, 'utf8'), deployment.instances!), { stable: 100, canary: 0 });
    await waitFor('Prometheus scraping the latency series', async () => {
      const body = (await (await fetch(`${monitor.prometheusUrl}/api/v1/query?query=llm_brief_elapsed_ms_count`)).json()) as { data: { result: unknown[] } };
      return body.data.result.length > 0;
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const started = Date.now();
    stopSlowBriefs = sustainSlowBriefs();
    await slowBriefs(4);
    await waitFor('HighLLMLatency firing in Prometheus', async () => (await prometheusAlert())?.state === 'firing', 30_000);
    timeline.firing = Date.now();
    assert.equal((await prometheusAlert())?.labels.mode, 'creative');
    await waitFor('the downshift action verified', async () => (await actions()).some((a) => a.status === 'verified' || a.status === 'failed' || a.status === 'undone'), 30_000);
    timeline.verified = Date.now();
    await stopSlowBriefs();
    const [action] = await actions();
    assert.equal(action!.status, 'verified', action!.reason);
    assert.equal(action!.alert.name, 'HighLLMLatency');
    assert.deepEqual(action!.args, { mode: 'creative', ttl: 3600 }, 'the rule filled the mode from the alert');
    assert.match(action!.reason, /creative requests go to balanced on 2 instance\(s\) for 3600 s unless renewed/);
    // What the alert says happened: creative is forced down on every serving instance (stable and canary),
    // for an hour unless renewed, and its requests are fast again.
    for (const instance of [deployment.instances!.stable, deployment.instances!.canary]) {
      const modes = ((await (await fetch(`http://${instance}/v1/llm/downshift`)).json()) as { modes: Array<{ mode: string; forced: boolean; expiresAt: string | null }> }).modes;
      const creative = modes.find((m) => m.mode === 'creative')!;
      assert.equal(creative.forced, true, instance);
      assert.ok(Math.abs(Date.parse(creative.expiresAt!) - Date.now() - 3_600_000) < 60_000, `${instance}: lapses in an hour (${creative.expiresAt})`);
    }
    const after = (await (await fetch(`${stableUrl}/v1/briefs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a warm amber', mode: 'creative' }) })).json()) as { mode: string; downshiftedFrom: string; elapsedMs: number };
    assert.deepEqual([after.mode, after.downshiftedFrom], ['balanced', 'creative']);
    assert.ok(after.elapsedMs < 1_000, `${after.elapsedMs} ms`);
    // And nothing the alert did not ask for: nginx still sends everything to stable.
    assert.deepEqual(parseWeights(await readFile(nginx.upstreamFile, 'utf8'), deployment.instances!), { stable: 100, canary: 0 });
    const audit = await new AuditLog(join(deployment.stateDir, 'audit.jsonl')).entries();
    assert.deepEqual(audit.map((e) => [e.actor, e.runbook, e.outcome]), [['alertmanager (rule HighLLMLatency)', 'downshift', 'started'], ['alertmanager (rule HighLLMLatency)', 'downshift', 'verified']]);
    const fireToVerified = timeline.verified - timeline.firing;
    t.diagnostic(`slow briefs sent → firing in Prometheus: ${timeline.firing - started} ms; firing → verified downshift of creative: ${fireToVerified} ms (group_wait 1 s here; the shipped route waits 10 s)`);
    assert.ok(fireToVerified < 20_000, `${fireToVerified} ms from firing to verified`);
  });

  it('the alert resolves once the mode is downshifted; the resolved notification lifts the forced downshift it caused, audited', async () => {
    await waitFor('HighLLMLatency resolved in Prometheus', async () => (await prometheusAlert()) === undefined, 30_000);
    await waitFor('the resolved notification at the webhook, and its lift', async () => (await actions())[0]?.lifted !== undefined, 20_000);
    const all = await actions();
    assert.equal(all.length, 1, 'one action for one firing: the lift is part of it, not a new action');
    assert.equal(all[0]!.status, 'verified');
    assert.match(all[0]!.lifted!, /^lifted: creative serves itself again on 2 instance\(s\)/);
    for (const instance of [deployment.instances!.stable, deployment.instances!.canary]) {
      const modes = ((await (await fetch(`http://${instance}/v1/llm/downshift`)).json()) as { modes: Array<{ mode: string; active: boolean }> }).modes;
      assert.equal(modes.find((m) => m.mode === 'creative')?.active, false, `${instance}: creative serves itself again`);
    }
    const audit = await new AuditLog(join(deployment.stateDir, 'audit.jsonl')).entries();
    assert.deepEqual(audit.slice(2).map((e) => [e.actor, e.runbook, e.outcome, e.args.clear]), [
      ['alertmanager (rule HighLLMLatency), resolved', 'downshift', 'started', true],
      ['alertmanager (rule HighLLMLatency), resolved', 'downshift', 'verified', true],
    ]);
    const metrics = await (await fetch(`${stableUrl}/metrics`)).text();
    assert.match(metrics, /remediation_actions_total\{runbook="downshift",outcome="verified"\} 1\n/);
  });

  it('a second alert inside the budget window is refused, audited, and the mode stays as it is', async () => {
    // Lifted with the resolution: creative is slow again, and the alert fires anew.
    stopSlowBriefs = sustainSlowBriefs();
    await slowBriefs(4);
    // Decided, not just recorded: the claim is written as `received` before the decision.
    await waitFor('a second HighLLMLatency action, decided', async () => ((await actions())[1]?.status ?? 'received') !== 'received', 40_000);
    await stopSlowBriefs();
    const second = (await actions())[1]!;
    assert.equal(second.status, 'refused');
    assert.match(second.reason, /cool-down|budget/);
    const audit = await new AuditLog(join(deployment.stateDir, 'audit.jsonl')).entries();
    assert.equal(audit.length, 5);
    assert.equal(audit[4]!.outcome, 'refused');
    assert.equal(audit[4]!.actor, 'alertmanager (rule HighLLMLatency)');
    assert.match(audit[4]!.detail, new RegExp(`remediation action ${second.id} refused: (cool-down|budget)`));
    const modes = ((await (await fetch(`${stableUrl}/v1/llm/downshift`)).json()) as { modes: Array<{ mode: string; forced: boolean }> }).modes;
    assert.equal(modes.find((m) => m.mode === 'creative')?.forced, false, 'the refused action changed nothing');
    assert.equal(await new AuditLog(join(deployment.stateDir, 'audit.jsonl')).verify(), null, 'the audit chain holds');
  });
});
