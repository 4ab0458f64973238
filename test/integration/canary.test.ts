import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CRITERIA, runCanary, type Analysis, type Criteria } from '../../src/canary/index.ts';
import { configHash, encodeCheckpoint, FormulationEnv, PpoTrainer, Random, TRAINING_BRIEFS } from '../../src/learning/index.ts';
import { localBrief, POLICY_PIN, writePins } from '../../src/llm/index.ts';
import { AuditLog, NginxControl, parseDeployment, parseWeights, renderUpstream, type Deployment } from '../../src/runbooks/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { runFai } from '../helpers/cli.ts';
import { freePort, startNginx, startPrometheus, waitFor, type NginxServer, type PrometheusServer } from '../helpers/servers.ts';

/**
 * Automated canary analysis against the real servers: two service instances behind the test nginx,
 * a real Prometheus scraping both every second, customer traffic (formulas and compliance checks)
 * sent through nginx all along. A canary released with a policy pin its hub cannot load fails every
 * formula request (~30 % of its traffic) → rollback; a healthy canary → promoted to 100 %.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEMPLATE = `${ROOT}/configs/nginx/upstream.conf.tmpl`;
/** A well-formed CID of a checkpoint nobody stored. */
const MISSING_CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';

let dir: string;
let hubDir: string;
let stable: App;
let canary: App | undefined;
let nginx: NginxServer;
let prometheus: PrometheusServer;
let deployment: Deployment;
let canaryPort: number;
let goodPins: string;
let badPins: string;
const criteria: Criteria = { ...DEFAULT_CRITERIA, looks: 8, minSamples: 200, errorMargin: 0.03 };
let example: string;
const decisions: string[] = [];
/** Requests a new canary answers before it takes traffic. */
const WARM_UP = 300;

/**
 * A canary instance, warmed up before it takes traffic (as a deployment's readiness step would): a
 * freshly started process answers its first requests slower while its code is compiled, which the
 * latency test would rightly hold against it.
 */
async function startCanary(pinsFile: string): Promise<void> {
  await canary?.close();
  canary = createApp(testConfig({ PORT: String(canaryPort), WORKER_ID: 'canary', HUB_DIR: hubDir, PINS_FILE: pinsFile }));
  const url = await canary.listen();
  for (let i = 0; i < WARM_UP; i++) {
    const formula = i % 3 === 0;
    const response = await fetch(`${url}${formula ? '/v1/formulas' : '/v1/compliance/check'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: formula ? JSON.stringify({ text: 'a fresh citrus cologne for summer mornings' }) : example,
    });
    await response.arrayBuffer();
  }
  // Prometheus must have scraped past the warm-up: the run's window starts after it.
  await waitFor('Prometheus to scrape the warmed-up canary', async () => {
    const [sample] = await prometheus.query(`sum(system_operations_total{instance="${deployment.instances!.canary}",component!~"metrics|health|ops"})`);
    return Number(sample?.value[1] ?? 0) >= WARM_UP;
  });
}

/**
 * Customer traffic through nginx until stopped: formula requests with probability 0.3 (seeded), the
 * rest compliance checks, 6 at a time. Drawn, not every third of ten: nginx's weighted round robin
 * is periodic too, and a periodic mix would alias with it.
 */
function traffic(seed: number): { stop: () => Promise<{ sent: number; byStatus: Record<number, number> }> } {
  let running = true;
  let sent = 0;
  const random = new Random(seed);
  const byStatus: Record<number, number> = {};
  const worker = async () => {
    while (running) {
      sent++;
      const formula = random.next() < 0.3;
      try {
        const response = await fetch(`${nginx.url}${formula ? '/v1/formulas' : '/v1/compliance/check'}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: formula ? JSON.stringify({ text: 'a fresh citrus cologne for summer mornings' }) : example,
        });
        await response.arrayBuffer();
        byStatus[response.status] = (byStatus[response.status] ?? 0) + 1;
      } catch {
        byStatus[0] = (byStatus[0] ?? 0) + 1;
      }
    }
  };
  const workers = Array.from({ length: 6 }, worker);
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return { sent, byStatus };
    },
  };
}


const fai = (args: string[]) => runFai(args, { FAI_DEPLOYMENT: join(dir, 'deployment.json') });
const weights = async () => parseWeights(await readFile(nginx.upstreamFile, 'utf8'), deployment.instances!);
const summary = (a: Analysis) => `${a.verdict}: canary ${a.canary.requests} req / ${a.canary.errors} err, stable ${a.stable.requests} req / ${a.stable.errors} err, AUC ${a.evidence.latency.auc.toFixed(3)} [${a.evidence.latency.low.toFixed(3)}, ${a.evidence.latency.high.toFixed(3)}], error diff ${(a.evidence.errors.difference * 100).toFixed(2)} pts (upper ${(a.evidence.errors.differenceHigh * 100).toFixed(2)}), Fisher p ${a.evidence.errors.fisherP.toPrecision(3)}`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fai-canary-'));
  hubDir = join(dir, 'hub');
  example = await readFile(`${ROOT}/examples/edp-fresh-citrus.json`, 'utf8');
  // A small trained policy in the hub both instances share; the good pins name it, the bad pins a CID it lacks.
  const trainer = new PpoTrainer({ env: new FormulationEnv(), briefs: TRAINING_BRIEFS.map(localBrief), seed: 5 });
  trainer.train(64);
  const storing = createApp(testConfig({ HUB_DIR: hubDir }));
  await storing.server.ready();
  const stored = await storing.server.inject({
    method: 'POST',
    url: '/v1/hub/checkpoints',
    headers: { 'content-type': 'application/octet-stream' },
    payload: Buffer.from(encodeCheckpoint(trainer.policy, { algorithm: 'ppo', configHash: configHash({ seed: 5 }), evaluationReturn: trainer.evaluate() })),
  });
  assert.equal(stored.statusCode, 201, stored.body);
  await storing.close();
  goodPins = join(dir, 'good-pins.json');
  badPins = join(dir, 'bad-pins.json');
  await writePins(goodPins, { qwen: '2.5.1', [POLICY_PIN]: { version: '1.0.0', cid: stored.json().cid } });
  await writePins(badPins, { qwen: '2.5.1', [POLICY_PIN]: { version: '1.1.0', cid: MISSING_CID } });

  const stablePort = await freePort();
  canaryPort = await freePort();
  const instances = { stable: `127.0.0.1:${stablePort}`, canary: `127.0.0.1:${canaryPort}` };
  stable = createApp(testConfig({ PORT: String(stablePort), WORKER_ID: 'stable', HUB_DIR: hubDir, PINS_FILE: goodPins }));
  await stable.listen();
  nginx = await startNginx(renderUpstream(await readFile(TEMPLATE, 'utf8'), instances, { stable: 100, canary: 0 }));
  prometheus = await startPrometheus([instances.stable, instances.canary]);
  const json = {
    stateDir: join(dir, 'state'),
    service: `http://${instances.stable}`,
    prometheus: prometheus.url,
    pinsFile: goodPins,
    nginx: { binary: 'nginx', prefix: nginx.prefix, config: nginx.config, upstreamFile: nginx.upstreamFile, template: TEMPLATE, url: nginx.url },
    instances,
  };
  await writeFile(join(dir, 'deployment.json'), JSON.stringify(json));
  deployment = parseDeployment(json, dir);
});

after(async () => {
  // The decisions, for the note: the test runner prints them once more at the end.
  for (const line of decisions) process.stdout.write(`# ${line}\n`);
  await prometheus?.stop();
  await nginx?.stop();
  await stable?.close();
  await canary?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('canary analysis and progressive delivery through a real nginx and Prometheus', () => {
  it('a canary failing a share of its requests is rolled back at the first step; traffic returns to stable', async (t) => {
    await startCanary(badPins);
    const load = traffic(1);
    const started = Date.now();
    const result = await runCanary({ deployment, steps: [10, 25, 50], criteria, stepTimeoutMs: 60_000, pollMs: 500, verifySamples: 100 });
    const elapsed = Date.now() - started;
    const sent = await load.stop();
    assert.equal(result.outcome, 'rolled_back', result.reason);
    assert.equal(result.steps.length, 1, 'decided at 10 %');
    const analysis = result.steps[0]!.analyses.at(-1)!;
    assert.equal(analysis.verdict, 'rollback');
    assert.match(analysis.reasons[0]!, /^errors: canary .* more than chance allows/);
    assert.ok(analysis.evidence.errors.canaryRatio > 0.2 && analysis.evidence.errors.stableRatio === 0, summary(analysis));
    assert.deepEqual(await weights(), { stable: 100, canary: 0 });
    assert.deepEqual(await new NginxControl(deployment.nginx!).sample(50), { stable: 50 });
    const audit = await new AuditLog(join(deployment.stateDir, 'audit.jsonl')).entries();
    assert.deepEqual(audit.map((e) => [e.actor, e.runbook, e.outcome, e.args.canary]), [['fai canary run', 'downshift', 'verified', 10], ['fai canary run', 'downshift', 'verified', 0]]);
    decisions.push(`bad canary: rolled back after ${elapsed} ms at 10 % — ${summary(analysis)}; traffic ${JSON.stringify(sent.byStatus)}`);
    t.diagnostic(decisions.at(-1)!);
  });

  it('fai canary analyze reports the failed canary as rollback with its evidence (exit 2)', async () => {
    const result = await fai(['canary', 'analyze', '--window', '2m', '--json']);
    assert.equal(result.code, 2, result.stderr);
    const analysis = JSON.parse(result.stdout) as Analysis;
    assert.equal(analysis.verdict, 'rollback');
    assert.ok(analysis.canary.errors > 0);
    decisions.push(`fai canary analyze on the bad canary: ${summary(analysis)}`);
  });

  it('a healthy canary goes 10 → 25 → 50 → 100 % and is promoted', async (t) => {
    await startCanary(goodPins);
    // The analysis of a run counts only that run's traffic: the failed canary's errors are behind it.
    const load = traffic(2);
    const started = Date.now();
    const result = await runCanary({ deployment, steps: [10, 25, 50], criteria, stepTimeoutMs: 90_000, pollMs: 500, verifySamples: 100, release: 'canary-good' });
    const elapsed = Date.now() - started;
    const sent = await load.stop();
    assert.equal(result.outcome, 'promoted', result.reason);
    assert.deepEqual(result.steps.map((s) => s.weight), [10, 25, 50]);
    for (const step of result.steps) assert.equal(step.analyses.at(-1)!.verdict, 'promote', summary(step.analyses.at(-1)!));
    assert.deepEqual(await weights(), { stable: 0, canary: 100 });
    assert.deepEqual(await new NginxControl(deployment.nginx!).sample(50), { canary: 50 });
    const releases = JSON.parse(await readFile(join(deployment.stateDir, 'releases.json'), 'utf8')) as Array<{ version: string }>;
    assert.equal(releases.at(-1)!.version, 'canary-good');
    const last = result.steps.at(-1)!.analyses.at(-1)!;
    decisions.push(
      `good canary: promoted after ${elapsed} ms, ${result.steps.map((s) => `${s.weight} %: ${s.analyses.length} look(s)`).join(', ')} — last look ${summary(last)}; traffic ${JSON.stringify(sent.byStatus)}`,
    );
    t.diagnostic(decisions.at(-1)!);
  });

  it('refuses bad flags with a clear message (exit 64)', async () => {
    for (const [args, message] of [
      [['canary', 'run', '--steps', '50,25'], /--steps: "50,25" must be rising/],
      [['canary', 'run', '--steps', '10,100'], /not a canary weight between 1 and 99/],
      [['canary', 'analyze', '--window', 'soon'], /--window: "soon" is not a duration/],
      [['canary', 'analyze', '--alpha', '2'], /--alpha: "2" must be a number above 0 and below 0.5/],
    ] as const) {
      const result = await fai([...args]);
      assert.equal(result.code, 64, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
