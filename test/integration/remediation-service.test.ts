import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { FaiError } from '../../src/errors/index.ts';
import { observability } from '../../src/ops/index.ts';
import { RedisRemediationStore, type Action } from '../../src/remediation/index.ts';
import { AuditLog, LocalBackend, parseDeployment, type Deployment } from '../../src/runbooks/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { runFai } from '../helpers/cli.ts';
import { freePort, startRedis, waitFor, type RedisServer } from '../helpers/servers.ts';
import { OPERATOR } from '../helpers/operator.ts';

const fai = (args: string[], extra: Record<string, string> = {}) => runFai(args, { ...env, ...extra });

/**
 * The service's side of the loop with its state in a real Redis: the IFRA rule (strict regulation
 * on every instance and a page through a real Alertmanager), a destructive action approved with
 * `fai remediation approve`, the kill switch from the CLI, deduplication across a restart.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'service-test-token-0123456789abcdef';

let dir: string;
let redis: RedisServer;
let monitor: observability.Monitor;
let app: App;
let url: string;
let port: number;
let deployment: Deployment;
let store: RedisRemediationStore;
let env: Record<string, string>;


const ifraPayload = (fingerprint: string, status: 'firing' | 'resolved' = 'firing') => ({
  version: '4',
  groupKey: '{}/{runbook=~"..."}:{alertname="IFRAViolation"}',
  truncatedAlerts: 0,
  status,
  receiver: 'automation',
  groupLabels: { alertname: 'IFRAViolation' },
  commonLabels: {},
  commonAnnotations: {},
  externalURL: 'http://127.0.0.1:9093',
  alerts: [
    {
      status,
      labels: { alertname: 'IFRAViolation', severity: 'critical', runbook: 'emergency-stop', threshold_row: 'ifra_violations_per_day' },
      annotations: { summary: '6 IFRA violations in 24 h' },
      startsAt: '2026-11-28T10:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://127.0.0.1:9090/graph',
      fingerprint,
    },
  ],
});

async function webhook(body: unknown): Promise<{ status: number; body: { decisions: Array<{ runbook: string; decision: string; action: string; reason: string }> } }> {
  const response = await fetch(`${url}/v1/alerts/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as never };
}

const actionsOf = async (runbook: string): Promise<Action[]> => (await store.list()).filter((a) => a.runbook === runbook);

function startApp(): App {
  return createApp(testConfig({ PORT: String(port), REDIS_URL: redis.url, ...env }));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fai-remediation-service-'));
  redis = await startRedis();
  port = await freePort();
  const [prometheusPort, alertmanagerPort] = [await freePort(), await freePort()];
  monitor = await observability.startMonitor({
    service: `127.0.0.1:${port}`,
    prometheusPort,
    alertmanagerPort,
    directory: join(dir, 'monitor'),
    rules: `${ROOT}/deploy/prometheus/rules.yml`,
    webhookToken: TOKEN,
  });
  const deploymentJson = {
    stateDir: join(dir, 'state'),
    service: `http://127.0.0.1:${port}`,
    alertmanager: monitor.alertmanagerUrl,
    processes: [{ name: 'worker-1', role: 'worker', command: ['sleep', '300'] }],
  };
  await writeFile(join(dir, 'deployment.json'), JSON.stringify(deploymentJson));
  deployment = parseDeployment(deploymentJson, dir);
  await writeFile(
    join(dir, 'remediation.yml'),
    [
      'rules:',
      '  - { alert: IFRAViolation, severity: critical, runbook: regulation-strict, mode: on, page: true }',
      '  - { alert: IFRAViolation, severity: critical, runbook: emergency-stop, mode: on }',
      '',
    ].join('\n'),
  );
  env = {
    ALERT_WEBHOOK_TOKEN: TOKEN,
    FAI_DEPLOYMENT: join(dir, 'deployment.json'),
    REMEDIATION_POLICY: join(dir, 'remediation.yml'),
    REDIS_URL: redis.url,
    FAI_URL: `http://127.0.0.1:${port}`,
  };
  await new LocalBackend(deployment).start('worker-1');
  app = startApp();
  url = await app.listen();
  store = new RedisRemediationStore(redis.url);
});

after(async () => {
  await store?.close();
  await app?.close();
  if (deployment !== undefined) await new LocalBackend(deployment).stop('worker-1');
  await monitor?.stop();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('closed-loop remediation in the service (Redis state, real Alertmanager, the fai CLI)', () => {
  it('IFRAViolation critical: strict regulation forced on, the people paged, the emergency stop waiting for approval', async () => {
    const { status, body } = await webhook(ifraPayload('0f1e2d3c4b5a6978'));
    assert.equal(status, 200);
    assert.deepEqual(body.decisions.map((d) => [d.runbook, d.decision]), [['regulation-strict', 'queued'], ['emergency-stop', 'awaiting_approval']]);
    await waitFor('regulation-strict verified', async () => (await actionsOf('regulation-strict'))[0]?.status === 'verified');
    const mode = (await (await fetch(`${url}/v1/compliance/strict`)).json()) as { forced: boolean; by: string };
    assert.equal(mode.forced, true);
    assert.equal(mode.by, 'alertmanager (rule IFRAViolation)', 'who acted: the rule, not the operator token the runbook authenticated with');
    const check = (await (
      await fetch(`${url}/v1/compliance/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...JSON.parse(await readFile(`${ROOT}/examples/edp-fresh-citrus.json`, 'utf8')), strict: false }) })
    ).json()) as { strict: boolean };
    assert.equal(check.strict, true, 'a request cannot opt out of the forced strict mode');
    const alerts = (await (await fetch(`${monitor.alertmanagerUrl}/api/v2/alerts`)).json()) as Array<{ labels: Record<string, string>; receivers: Array<{ name: string }> }>;
    const page = alerts.find((a) => a.labels.alertname === 'RemediationPage');
    assert.ok(page, 'the page reached Alertmanager');
    assert.equal(page.labels.source_alert, 'IFRAViolation');
    assert.deepEqual(page.receivers.map((r) => r.name), [observability.RECEIVERS.critical], 'routed to the people, not back to the automation');
    assert.match((await actionsOf('regulation-strict'))[0]!.paged!, /paged through/);
  });

  it('fai remediation ls shows what was done and what waits', async () => {
    const table = await fai(['remediation', 'ls']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /automation: running/);
    assert.match(table.stdout, /regulation-strict\s+on\s+verified/);
    assert.match(table.stdout, /emergency-stop\s+on\s+awaiting_approval/);
    const json = JSON.parse((await fai(['remediation', 'ls', '--json'])).stdout) as { paused: unknown; actions: Action[] };
    assert.equal(json.paused, null);
    assert.equal(json.actions.length, 2);
  });

  it('fai remediation approve runs the destructive action through the service, once', async () => {
    const waiting = (await actionsOf('emergency-stop'))[0]!;
    const noToken = await fai(['remediation', 'approve', waiting.id], { FAI_ADMIN_TOKEN: '' });
    assert.equal(noToken.code, 78);
    assert.match(noToken.stderr, /FAI_ADMIN_TOKEN is not set/);
    const wrongToken = await fai(['remediation', 'approve', waiting.id], { FAI_ADMIN_TOKEN: 'wrong-token-but-long-enough-000' });
    assert.equal(wrongToken.code, 64);
    assert.match(wrongToken.stderr, /wrong bearer token/);
    // The webhook's token approves nothing: it is Alertmanager's, not an operator's.
    const webhookToken = await fai(['remediation', 'approve', waiting.id], { FAI_ADMIN_TOKEN: env.ALERT_WEBHOOK_TOKEN! });
    assert.equal(webhookToken.code, 64);
    const approved = await fai(['remediation', 'approve', waiting.id]);
    assert.equal(approved.code, 0, approved.stdout + approved.stderr);
    assert.match(approved.stdout, new RegExp(`${waiting.id}: emergency-stop verified: stopped 1 process`));
    const approvedAction = (await actionsOf('emergency-stop'))[0]!;
    assert.equal(approvedAction.approvedBy, 'operator', 'the approver is the authenticated principal');
    assert.match(approvedAction.approvalNote ?? '', /^.+@cli$/, 'the CLI user is a note beside it, never the approver');
    const [status] = await new LocalBackend(deployment).status();
    assert.equal(status!.running, false, 'the worker was stopped');
    const again = await fai(['remediation', 'approve', waiting.id]);
    assert.equal(again.code, 64);
    assert.match(again.stderr, /is verified, not awaiting approval/);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /remediation_actions_total\{runbook="emergency-stop",outcome="awaiting_approval"\} 1/);
    assert.match(metrics, /remediation_actions_total\{runbook="emergency-stop",outcome="verified"\} 1/);
  });

  it('the kill switch (fai remediation pause / resume) refuses new alerts until lifted', async () => {
    const paused = await fai(['remediation', 'pause', '--reason', 'investigating']);
    assert.equal(paused.code, 0, paused.stderr);
    const { body } = await webhook(ifraPayload('1111222233334444'));
    assert.deepEqual(body.decisions.map((d) => d.decision), ['refused', 'refused']);
    assert.match(body.decisions[0]!.reason, /automation paused by .+@cli at .+: investigating/);
    assert.match((await fai(['remediation', 'ls'])).stdout, /automation: PAUSED by/);
    const resumed = await fai(['remediation', 'resume']);
    assert.match(resumed.stdout, /automation resumed/);
    assert.equal(await store.paused(), null);
  });

  it('remembers notifications across a restart of the service (Redis): a repeat is a duplicate', async () => {
    await app.close();
    app = startApp();
    url = await app.listen();
    const { body } = await webhook(ifraPayload('0f1e2d3c4b5a6978'));
    assert.deepEqual(body.decisions.map((d) => d.decision), ['duplicate', 'duplicate']);
    assert.equal((await actionsOf('regulation-strict')).length, 2, 'the first firing and the paused one, nothing new');
  });

  it('a resolved notification starts nothing', async () => {
    const before = (await store.list()).length;
    const { body } = await webhook(ifraPayload('0f1e2d3c4b5a6978', 'resolved'));
    assert.ok(body.decisions.every((d) => /never starts/.test(d.reason)));
    assert.equal((await store.list()).length, before);
  });

  it('a forced downshift whose TTL runs out lapses by itself, and the audit log says so', async () => {
    const forced = await fetch(`${url}/v1/llm/downshift/creative?ttlSeconds=1`, { method: 'PUT', headers: { ...OPERATOR, 'x-fai-on-behalf-of': 'alertmanager (rule HighLLMLatency)' } });
    assert.equal(forced.status, 200);
    const creative = async () => ((await (await fetch(`${url}/v1/llm/downshift`)).json()) as { modes: Array<{ mode: string; forced: boolean }> }).modes.find((m) => m.mode === 'creative')!;
    assert.equal((await creative()).forced, true);
    const bad = await fetch(`${url}/v1/llm/downshift/creative?ttlSeconds=-3`, { method: 'PUT', headers: OPERATOR });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /ttlSeconds/);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.equal((await creative()).forced, false, 'lapsed');
    await waitFor('the lapse in the audit log', async () => (await new AuditLog(join(deployment.stateDir, 'audit.jsonl')).entries()).some((e) => e.actor === 'downshift controller (TTL)'));
    const entry = (await new AuditLog(join(deployment.stateDir, 'audit.jsonl')).entries()).find((e) => e.actor === 'downshift controller (TTL)')!;
    assert.deepEqual([entry.runbook, entry.args, entry.outcome], ['downshift', { mode: 'creative', clear: true }, 'verified']);
    assert.match(entry.detail, /forced downshift of creative \(by alertmanager \(rule HighLLMLatency\)\) lapsed/);
  });

  it('answers 503 (Alertmanager retries) while Redis is down, and decides again once it is back', async () => {
    await redis.kill();
    const down = await webhook(ifraPayload('5555666677778888'));
    assert.equal(down.status, 503);
    assert.match((down.body as unknown as { error: { message: string } }).error.message, /remediation state in Redis/);
    await redis.restart();
    await waitFor('the store reconnected', async () => (await webhook(ifraPayload('5555666677778888'))).status === 200, 20_000);
  });

  it('without ALERT_WEBHOOK_TOKEN the webhook answers 401 saying so; a weak token or a bad policy stops the start', async () => {
    const off = createApp(testConfig({ PORT: '0' }));
    const answer = await off.server.inject({ method: 'POST', url: '/v1/alerts/webhook', payload: ifraPayload('ab'), headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(answer.statusCode, 401);
    assert.match(answer.json().error.message, /needs ALERT_WEBHOOK_TOKEN, and the service has none set/);
    await off.close();
    assert.throws(() => loadConfig({ ALERT_WEBHOOK_TOKEN: 'short' }), /env\.ALERT_WEBHOOK_TOKEN: must be at least 16 characters/);
    assert.throws(() => loadConfig({ FAI_ADMIN_TOKEN: 'short' }), /env\.FAI_ADMIN_TOKEN: must be at least 16 characters/);
    await writeFile(join(dir, 'bad.yml'), 'rules: [{ alert: X, runbook: downshift, mode: sometimes }]\n');
    const bad = createApp(testConfig({ PORT: '0', ALERT_WEBHOOK_TOKEN: TOKEN, FAI_DEPLOYMENT: env.FAI_DEPLOYMENT!, REMEDIATION_POLICY: join(dir, 'bad.yml') }));
    await assert.rejects(bad.listen(), (error: FaiError) => error.code === 'FAI_ERR_CONFIG' && /rules\.0\.mode/.test(error.message));
    await bad.close();
  });
});
