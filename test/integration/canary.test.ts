import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CRITERIA, type Analysis, type Criteria } from '../../src/canary/index.ts';
import { runCanary } from '../../src/runbooks/index.ts';
import { configHash, encodeCheckpoint, FormulationEnv, PpoTrainer, Random, TRAINING_BRIEFS } from '../../src/learning/index.ts';
import { localBrief, POLICY_PIN, writePins, type Pins } from '../../src/llm/index.ts';
import { AuditLog, LocalBackend, NginxControl, parseDeployment, parseWeights, renderUpstream, type Deployment } from '../../src/runbooks/index.ts';
import { createApp } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { FAI, runFai } from '../helpers/cli.ts';
import { freePort, startNginx, startPrometheus, waitFor, type NginxServer, type PrometheusServer } from '../helpers/servers.ts';
import { OPERATOR } from '../helpers/operator.ts';

/**
 * Automated canary analysis against the real servers: two `fai serve` processes (stable and canary,
 * started by the deployment's local backend as `fai deploy up` does) behind the test nginx, a real
 * Prometheus scraping both every second, customer traffic (formulas and compliance checks) sent
 * through nginx all along. A canary released with a policy pin its hub cannot load fails every
 * formula request (~30 % of its traffic) → rollback; the same canary with the pin fixed (written and
 * SIGHUP, as pin-update does) → promoted to 100 %.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEMPLATE = `${ROOT}/configs/nginx/upstream.conf.tmpl`;
/** A well-formed CID of a checkpoint nobody stored. */
const MISSING_CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';

let dir: string;
let nginx: NginxServer;
let backend: LocalBackend | undefined;
let prometheus: PrometheusServer;
let deployment: Deployment;
let canaryPins: string;
let goodPins: Pins;
const criteria: Criteria = { ...DEFAULT_CRITERIA, looks: 8, minSamples: 200, errorMargin: 0.03 };
let example: string;
const decisions: string[] = [];
/** Requests a new canary answers before it takes traffic. */
const WARM_UP = 300;

/**
 * Releases `pins` to the canary (pins file written, SIGHUP: the process re-reads it, as pin-update
 * does) and warms it up before it takes traffic, as a deployment's readiness step would: a path a
 * process has not run yet answers its first requests slower while its code is compiled, which the
 * latency test would rightly hold against it.
 */
async function releaseCanary(pins: Pins): Promise<void> {
  await writePins(canaryPins, pins);
  await backend!.signal('canary', 'SIGHUP');
  const url = `http://${deployment.instances!.canary}`;
  const wanted = pins[POLICY_PIN] as { cid: string };
  await waitFor('the canary serving its new pin', async () => ((await (await fetch(`${url}/health/policy`)).json()) as { cid?: string }).cid === wanted.cid);
  const before = await servedByCanary();
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
  await waitFor('Prometheus to scrape the warmed-up canary', async () => (await servedByCanary()) >= before + WARM_UP);
}

/** Customer requests the canary has answered, as Prometheus last scraped them. */
async function servedByCanary(): Promise<number> {
  const [sample] = await prometheus.query(`sum(system_operations_total{instance="${deployment.instances!.canary}",component!~"metrics|health|ops"})`);
  return Number(sample?.value[1] ?? 0);
}

/**
 * Customer traffic through nginx until stopped: formula requests with probability 0.3 (seeded), the
 * rest compliance checks, 6 at a time. Drawn, not every third of ten: nginx's weighted round robin
 * is periodic too, and a periodic mix would alias with it.
 */
/**
 * Runs `run` under `traffic(seed)`, and stops the traffic however the run ends: a run that throws
 * must not leave the load running (the test file would never exit).
 */
async function underLoad<T>(seed: number, run: () => Promise<T>): Promise<{ result: T; elapsed: number; sent: { sent: number; byStatus: Record<number, number> } }> {
  const load = traffic(seed);
  const started = Date.now();
  let result: T;
  try {
    result = await run();
  } catch (error) {
    await load.stop();
    throw error;
  }
  const elapsed = Date.now() - started;
  return { result, elapsed, sent: await load.stop() };
}

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
  example = await readFile(`${ROOT}/examples/edp-fresh-citrus.json`, 'utf8');
  // A small trained policy in each instance's hub; the good pins name it, the bad pins a CID nobody stored.
  const env = new FormulationEnv();
  const trainer = new PpoTrainer({ env, briefs: TRAINING_BRIEFS.map(localBrief), seed: 5, hidden: 16 });
  trainer.train(64);
  const checkpoint = Buffer.from(encodeCheckpoint(trainer.policy, { algorithm: 'ppo', configHash: configHash({ seed: 5 }), evaluationReturn: trainer.evaluate(), world: env.world }));
  let cid = '';
  for (const name of ['stable', 'canary']) {
    const storing = createApp(testConfig({ HUB_DIR: join(dir, `hub-${name}`) }));
    await storing.server.ready();
    const stored = await storing.server.inject({ method: 'POST', url: '/v1/hub/checkpoints', headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, payload: checkpoint });
    assert.equal(stored.statusCode, 201, stored.body);
    cid = stored.json().cid;
    await storing.close();
  }
  goodPins = { qwen: '2.5.1', [POLICY_PIN]: { version: '1.0.0', cid } };
  const stablePins = join(dir, 'stable-pins.json');
  canaryPins = join(dir, 'canary-pins.json');
  await writePins(stablePins, goodPins);
  await writePins(canaryPins, { qwen: '2.5.1' });

  const ports = { stable: await freePort(), canary: await freePort() };
  const instances = { stable: `127.0.0.1:${ports.stable}`, canary: `127.0.0.1:${ports.canary}` };
  const processes = (['stable', 'canary'] as const).map((role) => ({
    name: role,
    role,
    command: [process.execPath, FAI, 'serve'],
    env: { PORT: String(ports[role]), WORKER_ID: role, HUB_DIR: join(dir, `hub-${role}`), PINS_FILE: role === 'stable' ? stablePins : canaryPins, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', REDIS_URL: '' },
    healthUrl: `http://${instances[role]}/health`,
  }));
  // The instances first: nginx's first request must find stable up, or it marks it failed for 10 s.
  backend = new LocalBackend(parseDeployment({ stateDir: join(dir, 'state'), processes }, dir));
  for (const p of processes) await backend.start(p.name);
  nginx = await startNginx(renderUpstream(await readFile(TEMPLATE, 'utf8'), instances, { stable: 100, canary: 0 }));
  prometheus = await startPrometheus([instances.stable, instances.canary]);
  const json = {
    stateDir: join(dir, 'state'),
    service: `http://${instances.stable}`,
    prometheus: prometheus.url,
    pinsFile: stablePins,
    nginx: { binary: 'nginx', prefix: nginx.prefix, config: nginx.config, upstreamFile: nginx.upstreamFile, template: TEMPLATE, url: nginx.url },
    instances,
    processes,
  };
  await writeFile(join(dir, 'deployment.json'), JSON.stringify(json));
  deployment = parseDeployment(json, dir);
  await waitFor('Prometheus scraping both instances', async () => (await prometheus.query('up == 1')).length === 2, 30_000);
});

after(async () => {
  // The decisions, for the note: the test runner prints them once more at the end.
  for (const line of decisions) process.stdout.write(`# ${line}\n`);
  for (const name of ['canary', 'stable']) await backend?.stop(name);
  await prometheus?.stop();
  if (process.env.KEEP) await (await import('node:fs/promises')).copyFile(join(nginx.prefix, 'error.log'), join(dir, 'nginx-error.log')).catch(() => undefined);
  await nginx?.stop();
  if (process.env.KEEP) process.stdout.write(`# kept ${dir}\n`); else await rm(dir, { recursive: true, force: true });
});

describe('canary analysis and progressive delivery through a real nginx and Prometheus', () => {
  it('a canary failing a share of its requests is rolled back at the first step; traffic returns to stable', async (t) => {
    await releaseCanary({ qwen: '2.5.1', [POLICY_PIN]: { version: '1.1.0', cid: MISSING_CID } });
    const { result, elapsed, sent } = await underLoad(1, () => runCanary({ deployment, steps: [10, 25, 50], criteria, stepTimeoutMs: 60_000, pollMs: 500, verifySamples: 100 }));
    assert.equal(result.outcome, 'rolled_back', result.reason);
    assert.equal(result.steps.length, 1, 'decided at 10 %');
    const analysis = result.steps[0]!.analyses.at(-1)!;
    assert.equal(analysis.verdict, 'rollback');
    assert.match(analysis.reasons[0]!, /^errors: canary .* more than chance allows/);
    assert.ok(analysis.evidence.errors.canaryRatio > 0.2 && analysis.evidence.errors.stableRatio === 0, summary(analysis));
    assert.deepEqual(await weights(), { stable: 100, canary: 0 });
    assert.deepEqual(await new NginxControl(deployment.nginx!).sample(50), { stable: 50 });
    const audit = await new AuditLog(join(deployment.stateDir, 'audit.jsonl')).entries();
    // Each run's intent (started) is written before it acts; the outcomes are what this asserts.
    assert.deepEqual(audit.filter((e) => e.outcome !== 'started').map((e) => [e.actor, e.runbook, e.outcome, e.args.canary]), [['fai canary run', 'downshift', 'verified', 10], ['fai canary run', 'downshift', 'verified', 0]]);
    assert.equal(audit.filter((e) => e.outcome === 'started').length, 2);
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
    // canary-promote checks with the same analysis: it refuses (exit 2), and traffic stays on stable.
    const promote = await fai(['runbook', 'canary-promote', '--window', '120', '--samples', '20']);
    assert.equal(promote.code, 2, promote.stdout + promote.stderr);
    assert.match(promote.stderr, /canary analysis says rollback: errors: canary/);
    assert.deepEqual(await weights(), { stable: 100, canary: 0 });
  });

  it('a healthy canary goes 10 → 25 → 50 → 100 % and is promoted', async (t) => {
    // The pin fixed; the analysis of a run counts only that run's traffic: the failed release's errors are behind it.
    await releaseCanary(goodPins);
    const { result, elapsed, sent } = await underLoad(2, () => runCanary({ deployment, steps: [10, 25, 50], criteria, stepTimeoutMs: 90_000, pollMs: 500, verifySamples: 100, release: 'canary-good' }));
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
