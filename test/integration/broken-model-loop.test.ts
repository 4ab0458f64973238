import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { configHash, encodeCheckpoint, FormulationEnv, policyNetwork, Random, TEACHER_HIDDEN } from '../../src/learning/index.ts';
import { POLICY_PIN, readPins, type Pins } from '../../src/llm/index.ts';
import { observability, thresholdsTable } from '../../src/ops/index.ts';
import { DiskRemediationStore, type Action } from '../../src/remediation/index.ts';
import { AuditLog, LocalBackend, parseDeployment, ReleaseHistory, runNamed, type Deployment } from '../../src/runbooks/index.ts';
import { FAI, runFai } from '../helpers/cli.ts';
import { startQuickMonitor } from '../helpers/monitor.ts';
import { OPERATOR } from '../helpers/operator.ts';
import { freePort, requireBinary, waitFor } from '../helpers/servers.ts';

/**
 * The guide's loop catches a broken model (the formulation issue, item 7), with the real servers:
 * the service runs as a process (`fai serve`, managed by the local backend), a real Prometheus
 * evaluates the generated LowRewardMA rule (its `for` shortened to a second), a real Alertmanager
 * posts to the webhook, and the shipped remediation policy asks for the rollback, which an operator
 * approves with `fai remediation approve`.
 *
 * 1. Release 1.0.0 serves the shipped teacher: its served reward MA stays ≥ 18.
 * 2. Release 1.1.0 pins an untrained policy (pin-update, as an operator would): within 100 served
 *    formulas rl_reward_ma{source="served",window="100"} falls under 15 and LowRewardMA fires.
 * 3. The rollback (approved) restores 1.0.0's pin; within the next 100 formulas the MA is ≥ 18.
 * 4. The audit log holds each step, chained.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'broken-model-webhook-token-0123456789';
const TEXTS = (JSON.parse(await readFile(`${ROOT}/examples/character-briefs.json`, 'utf8')) as { texts: string[] }).texts;

let dir: string;
let deployment: Deployment;
let backend: LocalBackend;
let monitor: observability.Monitor;
let service: string;
let goodPins: Pins;
let brokenCid: string;
let served = 0;
const timeline: Record<string, number> = {};

async function serveFormula(): Promise<number> {
  const text = TEXTS[served++ % TEXTS.length]!;
  const response = await fetch(`${service}/v1/formulas`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { reward: { total: number } }).reward.total;
}

async function servedMa(): Promise<number | null> {
  const text = await (await fetch(`${service}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('rl_reward_ma{') && l.includes('window="100"') && l.includes('source="served"'));
  return line === undefined ? null : Number(line.split(' ').at(-1));
}

async function lowRewardAlert(): Promise<{ state: string } | undefined> {
  const body = (await (await fetch(`${monitor.prometheusUrl}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
  return body.data.alerts.find((a) => a.labels.alertname === 'LowRewardMA' && a.labels.severity === 'warning');
}

const rollbacks = async (): Promise<Action[]> => (await new DiskRemediationStore(join(deployment.stateDir, 'remediation')).list()).filter((a) => a.runbook === 'rollback');

before(async () => {
  requireBinary('prometheus', 'prometheus');
  requireBinary('prometheus-alertmanager', 'prometheus-alertmanager');
  dir = await mkdtemp(join(tmpdir(), 'fai-broken-model-'));
  const pinsFile = join(dir, 'model_pins.json');
  await copyFile(`${ROOT}/configs/model_pins.json`, pinsFile);
  goodPins = await readPins(pinsFile);
  const [port, prometheusPort, alertmanagerPort] = [await freePort(), await freePort(), await freePort()];
  service = `http://127.0.0.1:${port}`;
  const deploymentJson = {
    stateDir: join(dir, 'state'),
    pinsFile,
    service,
    prometheus: `http://127.0.0.1:${prometheusPort}`,
    alertmanager: `http://127.0.0.1:${alertmanagerPort}`,
    processes: [
      {
        name: 'api',
        role: 'service',
        command: [process.execPath, FAI, 'serve'],
        env: {
          PORT: String(port),
          WORKER_ID: 'api',
          LOG_LEVEL: 'warn',
          HUB_DIR: join(dir, 'hub'),
          PINS_FILE: pinsFile,
          NVIDIA_SMI: join(dir, 'no-nvidia-smi'),
          ALERT_WEBHOOK_TOKEN: TOKEN,
          FAI_DEPLOYMENT: join(dir, 'deployment.json'),
          REMEDIATION_POLICY: `${ROOT}/configs/remediation.yml`,
          RATE_LIMIT_PER_MINUTE: '100000',
        },
        healthUrl: `${service}/health`,
      },
    ],
  };
  await writeFile(join(dir, 'deployment.json'), JSON.stringify(deploymentJson));
  deployment = parseDeployment(deploymentJson, dir);
  // The release history a deployment keeps: 1.0.0 serves the shipped teacher.
  await new ReleaseHistory(deployment).write([{ version: '1.0.0', pins: goodPins, at: new Date().toISOString(), by: 'test' }]);
  backend = new LocalBackend(deployment);
  await backend.start('api');

  // The generated LowRewardMA rule, its `for` shortened so the test takes seconds.
  const row = thresholdsTable.find((r) => r.id === 'rl_reward_ma_100')!;
  const fast = { ...row, alert: { ...row.alert, for: '1s' } } as typeof row;
  monitor = await startQuickMonitor({ service: `127.0.0.1:${port}`, directory: dir, rows: [fast], prometheusPort, alertmanagerPort, webhookToken: TOKEN });
  // The broken model: a policy of the teacher's shape that was never trained.
  const env = new FormulationEnv();
  const untrained = encodeCheckpoint(policyNetwork(env, TEACHER_HIDDEN, new Random(1)), { algorithm: 'ppo', configHash: configHash({ untrained: true }), evaluationReturn: 0, world: env.world });
  const stored = await fetch(`${service}/v1/hub/checkpoints`, { method: 'POST', headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, body: untrained });
  assert.equal(stored.status, 201);
  brokenCid = ((await stored.json()) as { cid: string }).cid;
});

after(async () => {
  await monitor?.stop();
  await backend?.stop('api');
  await rm(dir, { recursive: true, force: true });
});

describe('the guide\'s loop catches a broken model: LowRewardMA fires, the approved rollback restores the last good pin (real Prometheus, Alertmanager, service process)', () => {
  it('with the shipped model the served reward MA stays at or above 18', async () => {
    const rewards: number[] = [];
    for (let i = 0; i < 60; i++) rewards.push(await serveFormula());
    const ma = await servedMa();
    assert.ok(ma !== null && ma >= 18, `served MA ${ma} (rewards ${Math.min(...rewards)}–${Math.max(...rewards)})`);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(await lowRewardAlert(), undefined, 'no LowRewardMA while the shipped model serves');
  });

  it('pinning an untrained policy brings the MA under 15 within 100 formulas, and LowRewardMA fires', async (t) => {
    const releases = new ReleaseHistory(deployment);
    const brokenPins = { ...goodPins, [POLICY_PIN]: { version: '1.1.0', cid: brokenCid } };
    await releases.write([...(await releases.all()), { version: '1.1.0', pins: brokenPins, at: new Date().toISOString(), by: 'test' }]);
    const pinned = await runNamed(deployment, 'pin-update', { model: POLICY_PIN, version: '1.1.0', cid: brokenCid }, {});
    assert.equal(pinned.outcome, 'verified', pinned.detail);
    timeline.pinned = Date.now();
    let formulas = 0;
    let ma: number | null = null;
    while (formulas < 100) {
      await serveFormula();
      formulas++;
      ma = await servedMa();
      if (ma !== null && ma < 15) break;
    }
    timeline.detectedFormulas = formulas;
    assert.ok(ma !== null && ma < 15, `served MA ${ma} after ${formulas} formulas of the untrained policy`);
    // Keep serving (customers keep asking) while Prometheus evaluates the rule.
    let keepServing = true;
    const traffic = (async () => {
      while (keepServing) {
        await serveFormula();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    try {
      await waitFor('LowRewardMA firing in Prometheus', async () => (await lowRewardAlert())?.state === 'firing', 30_000);
      timeline.firing = Date.now();
      await waitFor('the rollback awaiting approval', async () => (await rollbacks()).some((a) => a.status === 'awaiting_approval'), 30_000);
      timeline.awaiting = Date.now();
    } finally {
      keepServing = false;
      await traffic;
    }
    t.diagnostic(`detection: MA under 15 after ${timeline.detectedFormulas} formulas; LowRewardMA firing ${((timeline.firing! - timeline.pinned!) / 1000).toFixed(1)} s after the pin; rollback awaiting approval ${((timeline.awaiting! - timeline.firing!) / 1000).toFixed(1)} s later`);
  });

  it('the rollback, approved through fai, restores the last good pin, and the MA is back at or above 18 within 100 formulas', async (t) => {
    const [action] = (await rollbacks()).filter((a) => a.status === 'awaiting_approval');
    assert.ok(action !== undefined);
    const approved = await runFai(['remediation', 'approve', action.id, '--url', service, '--json'], {});
    timeline.approved = Date.now();
    assert.equal(approved.code, 0, approved.stdout + approved.stderr);
    const pins = await readPins(deployment.pinsFile);
    assert.deepEqual(pins[POLICY_PIN], goodPins[POLICY_PIN], 'the pins are release 1.0.0\'s again');
    const policy = (await (await fetch(`${service}/health/policy`)).json()) as { status: string; cid: string };
    assert.deepEqual([policy.status, policy.cid], ['loaded', (goodPins[POLICY_PIN] as { cid: string }).cid]);
    let formulas = 0;
    let ma: number | null = null;
    for (; formulas < 100; formulas++) await serveFormula();
    ma = await servedMa();
    timeline.recovered = Date.now();
    assert.ok(ma !== null && ma >= 18, `served MA ${ma} after ${formulas} formulas of the restored policy`);
    t.diagnostic(`rollback: approved → pins restored and verified ${((timeline.approved - timeline.awaiting!) / 1000).toFixed(1)} s after it was asked for (the approval's wait is the operator's); ${formulas} formulas later the served MA is ${ma}`);
  });

  it('the audit log holds each step, chained', async () => {
    const audit = new AuditLog(join(deployment.stateDir, 'audit.jsonl'));
    const entries = await audit.entries();
    const steps = entries.map((e) => `${e.runbook}:${e.outcome}`);
    assert.deepEqual(steps.filter((s) => s.startsWith('pin-update')), ['pin-update:started', 'pin-update:verified']);
    assert.ok(steps.includes('rollback:started') && steps.includes('rollback:verified'), steps.join(', '));
    // The rollback ran on the approval of the action LowRewardMA opened: the action names the alert, the audit the approval.
    const [action] = (await rollbacks()).filter((a) => a.alert.name === 'LowRewardMA');
    assert.ok(action !== undefined);
    assert.equal(action.status, 'verified', action.reason);
    const rollback = entries.filter((e) => e.runbook === 'rollback');
    // Who acted is the approving operator; the approval (and the CLI user's note) is the entry's note.
    assert.ok(rollback.every((e) => e.actor === 'operator' && (e.note ?? '').startsWith(`approved ${action.id}`)), rollback.map((e) => `${e.actor} / ${e.note}`).join(', '));
    assert.match(rollback.at(-1)!.detail, /on 1\.0\.0/);
    assert.equal(await audit.verify(), null, 'the chain holds');
  });
});
