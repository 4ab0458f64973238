import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { healthExitCode } from '../../src/cli/commands/health.ts';
import { BlockStore, CloudHub, EmbeddedMetadataStore } from '../../src/hub/index.ts';
import type { HealthReport, ThresholdReport } from '../../src/ops/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';
import { runFai as fai } from '../helpers/cli.ts';
import { freePort } from '../helpers/servers.ts';



let app: App;
let url: string;

before(async () => {
  app = createApp(testConfig({ PORT: '0' }));
  url = await app.listen();
});
after(async () => {
  await app.close();
});

describe('fai', () => {
  it('has --help on the program and every verb', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['health', '--help'], ['train', '--help'], ['distill', '--help'], ['worker', '--help'], ['remediation', '--help'], ['remediation', 'approve', '--help'], ['canary', 'analyze', '--help'], ['canary', 'run', '--help']]) {
      const result = await fai(args);
      assert.equal(result.code, 0, args.join(' '));
      assert.match(result.stdout, /Usage: fai/);
    }
  });

  it('exits 64 with one line of advice on a wrong flag or verb', async () => {
    for (const args of [['health', '--bogus'], ['nope']]) {
      const result = await fai(args);
      assert.equal(result.code, 64, args.join(' '));
      assert.match(result.stderr, /error: unknown (option|command)/);
    }
  });

  it('exits 78 naming the variable when the configuration is wrong', async () => {
    const result = await fai(['serve'], { PORT: 'eighty' });
    assert.equal(result.code, 78);
    assert.match(result.stderr, /env\.PORT/);
  });

  it('exits 78 when the port is taken', async () => {
    const port = new URL(url).port;
    const result = await fai(['serve', '--port', port]);
    assert.equal(result.code, 78);
    assert.match(result.stderr, /already in use/);
  });
});

describe('fai health', () => {
  it('prints component health and every thresholds row from a running service', async () => {
    const result = await fai(['health', '--url', url]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Service healthy/m);
    assert.match(result.stdout, /^Thresholds /m);
    for (const title of ['llm_brief_elapsed_ms p95', 'rl_reward_ma (window 100)', 'rl_clip_frac', 'ifra_violations_total', 'ipfs restore latency', 'system_error_rate', 'worker VRAM']) {
      assert.ok(result.stdout.includes(title), title);
    }
    assert.match(result.stdout, /worker VRAM\s+NO_DATA/, 'a row without data says so');
  });

  it('prints JSON with --json', async () => {
    const result = await fai(['health', '--url', url, '--json']);
    assert.equal(result.code, 0);
    const body = JSON.parse(result.stdout);
    assert.equal(body.health.status, 'healthy');
    assert.equal(body.thresholds.rows.length, 11, 'every row of the thresholds table');
  });

  it('exits 2 when a row is critical', async () => {
    app.metrics.rlClipFrac.set({ algorithm: 'ppo', job_id: 'job-1' }, 0.9);
    try {
      const result = await fai(['health', '--url', url]);
      assert.equal(result.code, 2);
      assert.match(result.stdout, /rl_clip_frac\s+CRITICAL\s+0\.9/);
    } finally {
      app.metrics.rlClipFrac.remove({ algorithm: 'ppo', job_id: 'job-1' });
    }
  });

  it('exits 69 with advice when nothing listens at the URL', async () => {
    const result = await fai(['health', '--url', `http://127.0.0.1:${await freePort()}`]);
    assert.equal(result.code, 69);
    assert.match(result.stderr, /cannot connect.*make run/);
  });

  it('exits 64 on a malformed --url or --timeout', async () => {
    assert.equal((await fai(['health', '--url', 'not a url'])).code, 64);
    assert.equal((await fai(['health', '--url', url, '--timeout', '-5'])).code, 64);
  });
});

describe('healthExitCode', () => {
  const health = (status: HealthReport['status']): HealthReport => ({ status, services: {}, timestamp: '' });
  const thresholds = (status: ThresholdReport['status']): ThresholdReport => ({ status, rows: [], timestamp: '' });
  it('maps verdicts to 0 / 1 / 2', () => {
    assert.equal(healthExitCode(health('healthy'), thresholds('NO_DATA')), 0);
    assert.equal(healthExitCode(health('healthy'), thresholds('OK')), 0);
    assert.equal(healthExitCode(health('degraded'), thresholds('OK')), 1);
    assert.equal(healthExitCode(health('healthy'), thresholds('WARNING')), 1);
    assert.equal(healthExitCode(health('unhealthy'), thresholds('OK')), 2);
    assert.equal(healthExitCode(health('healthy'), thresholds('CRITICAL')), 2);
  });
});

describe('fai ifra-certificate', () => {
  const example = fileURLToPath(new URL('../../examples/edp-fresh-citrus.json', import.meta.url));
  const exampleCsv = fileURLToPath(new URL('../../examples/edp-fresh-citrus.csv', import.meta.url));

  it('prints the maximum dosage in each category for the shipped example, and writes the page', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-cert-'));
    const html = join(dir, 'certificate.html');
    const result = await fai(['ifra-certificate', example, '--name', 'EDP Fresh Citrus', '--html', html]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /IFRA Certificate of Conformity — EDP Fresh Citrus, \d{4}-\d{2}-\d{2}, IFRA 51st Amendment/);
    // Category 4: bergamot 0.4, grapefruit 4 → 100 / (12/0.4 + 6/4) = 3.1746 → 3.174 %, set by the phototoxic-oil sum.
    assert.match(result.stdout, /^\s+4\s+3\.174%\s+Furocoumarin-containing oils/m);
    assert.match(result.stdout, /^\s+12\s+100%\s+nothing in the formula$/m);
    assert.match(await readFile(html, 'utf8'), /<td>4<\/td><td>[^<]*<\/td><td class="max">3\.174 %<\/td>/);
    const json = await fai(['ifra-certificate', exampleCsv, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout);
    assert.equal(body.categories.length, 18);
    assert.equal(body.categories.find((c: { category: string }) => c.category === '4').maxDosagePct, 3.174);
  });

  it('exits 64 naming what to fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-cert-'));
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ formula: [{ material: 'Linalool', concentrationPct: Number.NaN }] }));
    const unknownField = join(dir, 'unknown.json');
    await writeFile(unknownField, JSON.stringify({ formula: [{ material: 'Linalool', concentrationPct: 2, colour: 'red' }] }));
    const cases: Array<[string[], RegExp]> = [
      [['ifra-certificate', '/nonexistent/formula.json'], /FILE: cannot read/],
      [['ifra-certificate', bad], /FILE\.formula\.0\.concentrationPct/],
      [['ifra-certificate', unknownField], /colour/],
      [['ifra-certificate', example, '--colour'], /unknown option '--colour'/],
    ];
    for (const [args, message] of cases) {
      const result = await fai(args);
      assert.equal(result.code, 64, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});

describe('fai check-formula', () => {
  const example = fileURLToPath(new URL('../../examples/edp-fresh-citrus.json', import.meta.url));
  const exampleCsv = fileURLToPath(new URL('../../examples/edp-fresh-citrus.csv', import.meta.url));

  it('prints a verdict for the shipped example: bergamot over its limit and the phototoxic-oil sum over 100 %, exit 2', async () => {
    const result = await fai(['check-formula', example]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /IFRA category 4, concentrate at 15% of the product, leave-on/);
    assert.match(result.stdout, /Citronellal\s+106-23-0\s+1\.5%\s+0\.225%\s+0\.49%\s+PASS/);
    assert.match(result.stdout, /Bergamot oil\s+8007-75-8\s+12%\s+1\.8%\s+0\.4%\s+FAIL/);
    // 1.8/0.4 + 0.9/4 = 4.725 → 472.5 % of the limits.
    assert.match(result.stdout, /Furocoumarin-containing oils \(phototoxicity sum rule\)\s+0, 1\s+472\.5%\s+100%\s+FAIL/);
    assert.match(result.stdout, /Allergens to declare on the label:\n\s+Citrus Aurantium Bergamia Peel Oil: 1\.8%/);
    // What the naturals carry, and why: bergamot's linalool (6–15 %, the maximum taken) beside the linalool line.
    assert.match(result.stdout, /  Linalool: [\d.]+% \(threshold 0\.001%; lines 0, 2\)\n    line 0 carries 0\.27%: Linalool 6–15 % of Bergamot oil\n/);
    assert.match(result.stdout, /IFRA specifications \(raw-material criteria\):\n  line 2 Linalool: .*peroxide value < 20 mmol\/L/);
    assert.match(result.stdout, /^Checks: ingredient PASS · concentration FAIL · combination FAIL → FAIL$/m);
  });

  it('reads CSV with the category and dosage as flags, and fails in strict mode with exit 2', async () => {
    const result = await fai(['check-formula', exampleCsv, '--category', '4', '--dosage', '15', '--strict', '--json']);
    assert.equal(result.code, 2, result.stderr);
    const body = JSON.parse(result.stdout);
    assert.equal(body.verdict, 'fail');
    assert.equal(body.materials.length, 10);
  });

  it('exits 64 naming what to fix', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['check-formula', exampleCsv], /--category: required/],
      [['check-formula', exampleCsv, '--category', '4', '--dosage', 'lots'], /--dosage: "lots" is not a number/],
      [['check-formula', exampleCsv, '--category', '5', '--dosage', '15'], /sub-categories 5A/],
      [['check-formula', '/nonexistent/formula.json'], /FILE: cannot read/],
      [['check-formula', example, '--exposure', 'spray'], /argument 'spray' is invalid/],
    ];
    for (const [args, message] of cases) {
      const result = await fai(args);
      assert.equal(result.code, 64, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});

describe('fai hub', () => {
  it('puts a recipe and gets it back, lists it, pins it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-cli-hub-'));
    const file = join(dir, 'recipe.json');
    await writeFile(file, JSON.stringify({ name: 'Amber evening', formula: [{ material: 'Ambroxan', concentrationPct: 2 }] }));
    const put = await fai(['hub', 'put', 'recipe', file, '--url', url, '--tags', 'winter']);
    assert.equal(put.code, 0, put.stderr);
    const cid = put.stdout.trim();
    assert.match(cid, /^baguqeera/);
    const get = await fai(['hub', 'get', cid, '--url', url]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(JSON.parse(get.stdout).name, 'Amber evening');
    const ls = await fai(['hub', 'ls', '--type', 'recipe', '--url', url]);
    assert.match(ls.stdout, new RegExp(`${cid}\\s+recipe`));
    assert.match((await fai(['hub', 'pin', cid, '--url', url])).stdout, /pinned/);
    assert.match((await fai(['hub', 'gc', '--url', url])).stdout, /^gc: \d+ blocks removed, \d+ kept/);
  });

  it('round-trips a checkpoint file, byte for byte', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-cli-hub-'));
    const file = join(dir, 'policy.bin');
    const bytes = Buffer.alloc(2_100_000).map((_, i) => (i * 13) % 256);
    await writeFile(file, bytes);
    const put = await fai(['hub', 'put', 'checkpoint', file, '--url', url]);
    assert.equal(put.code, 0, put.stderr);
    const out = join(dir, 'restored.bin');
    const get = await fai(['hub', 'get', put.stdout.trim(), '--url', url, '--out', out]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(Buffer.compare(await readFile(out), bytes), 0);
  });

  it('exits 64 with the service message for bad input, 69 when no service answers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-cli-hub-'));
    const bad = join(dir, 'feedback.json');
    await writeFile(bad, JSON.stringify({ recipeCid: 'nope', rating: 9 }));
    const refused = await fai(['hub', 'put', 'feedback', bad, '--url', url]);
    assert.equal(refused.code, 64);
    assert.match(refused.stderr, /body\.recipeCid/);
    assert.equal((await fai(['hub', 'get', 'not-a-cid', '--url', url])).code, 64);
    assert.equal((await fai(['hub', 'put', 'poem', bad, '--url', url])).code, 64);
    const down = await fai(['hub', 'ls', '--type', 'recipe', '--url', `http://127.0.0.1:${await freePort()}`]);
    assert.equal(down.code, 69);
  });
});

describe('fai runbook', () => {
  it('lists the eleven runbooks, marking the destructive ones', async () => {
    const result = await fai(['runbook', 'list', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const rows = JSON.parse(result.stdout) as Array<{ name: string; destructive: boolean }>;
    assert.deepEqual(rows.map((r) => r.name), ['downshift', 'rollback', 'pin-update', 'canary-promote', 'emergency-stop', 'restart-workers', 'clear-cache', 'health-check', 'metrics-check', 'shadow-eval', 'regulation-strict']);
    assert.deepEqual(rows.filter((r) => r.destructive).map((r) => r.name), ['rollback', 'emergency-stop', 'restart-workers', 'clear-cache']);
  });

  it('runs pin-update through the CLI and audits it; shadow-eval trains for the run when nothing is pinned and writes both reports', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-cli-runbook-'));
    const pins = join(dir, 'pins.json');
    await writeFile(pins, JSON.stringify({ qwen: '2.5.1' }));
    const deploymentFile = join(dir, 'deployment.json');
    await writeFile(deploymentFile, JSON.stringify({ stateDir: join(dir, 'state'), pinsFile: pins }));
    const env = { FAI_DEPLOYMENT: deploymentFile };
    const update = await fai(['runbook', 'pin-update', '--model', 'qwen', '--version', '2.6.0'], env);
    assert.equal(update.code, 0, update.stderr);
    assert.match(update.stdout, /qwen 2\.5\.1 → 2\.6\.0/);
    assert.deepEqual(JSON.parse(await readFile(pins, 'utf8')), { qwen: '2.6.0' });
    const bad = await fai(['runbook', 'pin-update', '--model', 'qwen', '--version', 'latest'], env);
    assert.equal(bad.code, 64);
    const shadowDir = join(dir, 'shadow');
    // A small teacher (--hidden): the runbook's plumbing is under test, not the shipped teacher's size.
    const shadow = await fai(['runbook', 'shadow-eval', '--samples', '6', '--train-episodes', '64', '--hidden', '16', '--json'], { ...env, HUB_DIR: join(dir, 'hub'), SHADOW_DIR: shadowDir });
    assert.equal(shadow.code, 0, shadow.stderr);
    const result = JSON.parse(shadow.stdout);
    assert.equal(result.outcome, 'verified');
    assert.match(result.plan.join('\n'), /a teacher of 64 PPO episodes, 16 hidden units, and its student/);
    const tooBig = await fai(['runbook', 'shadow-eval', '--hidden', '2000'], env);
    assert.equal(tooBig.code, 64);
    assert.match(tooBig.stderr, /--hidden must be a whole number from 4 to 1024/);
    assert.match(result.detail, /6 comparisons over 6 distinct briefs: lift retention/);
    const report = JSON.parse(await readFile(join(shadowDir, 'reports', 'shadow_evaluation_results.json'), 'utf8'));
    assert.equal(report.summary.total_comparisons, 6);
    assert.match(await readFile(join(shadowDir, 'reports', 'shadow_evaluation_report.html'), 'utf8'), /__chartsRendered/);
    assert.equal((await fai(['runbook', 'shadow-eval', '--stage', 'moon'], env)).code, 64);
    const audit = await fai(['runbook', 'audit', '--verify'], env);
    assert.equal(audit.code, 0);
    assert.match(audit.stdout, /audit log intact \(6 entries\)/);
  });
});

describe('fai brief', () => {
  it('answers a Korean and an English example with the local model', async () => {
    const ko = await fai(['brief', '여름 바다 느낌, 상큼하고 가벼운 향. 바닐라는 싫어요'], { LLM_QWEN_URL: '', LLM_MISTRAL_URL: '', LLM_LLAMA_URL: '' });
    assert.equal(ko.code, 0, ko.stderr);
    assert.match(ko.stdout, /model local/);
    assert.match(ko.stdout, /not wanted\s+vanilla/);
    const en = await fai(['brief', 'a warm amber for winter evenings, no musk', '--json'], { LLM_QWEN_URL: '', LLM_MISTRAL_URL: '', LLM_LLAMA_URL: '' });
    assert.equal(en.code, 0, en.stderr);
    const body = JSON.parse(en.stdout);
    assert.deepEqual([body.model, body.brief.forbiddenIngredients, body.brief.season], ['local', ['musk'], ['winter']]);
  });

  it('exits 64 on an empty text or an unknown mode', async () => {
    assert.equal((await fai(['brief', '  '])).code, 64);
    assert.equal((await fai(['brief', 'amber', '--mode', 'turbo'])).code, 64);
  });
});

describe('fai train', () => {
  it('trains PPO for a few episodes and prints a JSON summary with the clip fraction', async () => {
    const result = await fai(['train', '--algo', 'ppo', '--episodes', '64', '--seed', '3', '--hidden', '16', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual([summary.algorithm, summary.episodes, summary.seed], ['ppo', 64, 3]);
    assert.ok(summary.lastClipFraction >= 0 && summary.lastClipFraction <= 1);
    assert.match(result.stderr, /64\/64 episodes/, 'progress reported');
  });

  it('refuses an unknown algorithm and 0 episodes (64)', async () => {
    assert.equal((await fai(['train', '--algo', 'sarsa'])).code, 64);
    assert.equal((await fai(['train', '--episodes', '0'])).code, 64);
  });

  it('writes a checkpoint with --out that fai eval scores with a confidence interval; eval refuses a file that is not one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-eval-'));
    const checkpoint = join(dir, 'policy.ckpt');
    const trained = await fai(['train', '--algo', 'ppo', '--episodes', '32', '--seed', '3', '--hidden', '16', '--out', checkpoint, '--json']);
    assert.equal(trained.code, 0, trained.stderr);
    assert.equal(JSON.parse(trained.stdout).checkpoint, checkpoint);
    const evaluated = await fai(['eval', '--checkpoint', checkpoint, '--seeds', '3', '--json']);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const result = JSON.parse(evaluated.stdout);
    // Held-out beside training, each a mean with its 95 % t-interval over briefs; sampled actions over 3 seeds.
    assert.equal(result.algorithm, 'ppo');
    assert.ok(result.heldOut.n >= 200 && Number.isFinite(result.heldOut.mean) && result.heldOut.ci95 > 0);
    assert.ok(result.training.n > 0 && Number.isFinite(result.training.mean));
    assert.ok(Number.isFinite(result.composerAlone.mean));
    assert.deepEqual([result.sampledHeldOut.seeds, result.sampledHeldOut.episodes], [3, 120]);
    const notOne = join(dir, 'notes.txt');
    await writeFile(notOne, 'hello');
    const refused = await fai(['eval', '--checkpoint', notOne]);
    assert.equal(refused.code, 64);
    assert.match(refused.stderr, /not a policy checkpoint/);
    assert.equal((await fai(['eval', '--checkpoint', join(dir, 'missing')])).code, 64);
    assert.equal((await fai(['eval'])).code, 64, 'the checkpoint is required');
  });
});

describe('fai train off the command line\'s own process', () => {
  it('--submit has the service train it and prints the job with the checkpoint CID in the service hub', async () => {
    const result = await fai(['train', '--submit', '--url', url, '--algo', 'ppo', '--episodes', '64', '--seed', '3', '--hidden', '16', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const job = JSON.parse(result.stdout);
    assert.deepEqual([job.state, job.runner, job.spec.episodes, job.summary.episodes], ['completed', 'thread', 64, 64]);
    const stored = await fetch(new URL(`/v1/hub/objects/${job.checkpointCid}`, url));
    assert.equal(stored.status, 200);
    const detached = await fai(['train', '--submit', '--detach', '--url', url, '--algo', 'reinforce', '--episodes', '16']);
    assert.equal(detached.code, 0, detached.stderr);
    assert.match(detached.stdout.trim(), /^[0-9a-f-]{36}$/);
    assert.equal((await fai(['train', '--submit', '--url', url, '--out', 'x.ckpt'])).code, 64, '--out goes with local training only');
  });

  it('--from-feedback replays the feedback in the configured hub, and exits 64 when there is none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-cli-feedback-'));
    const none = await fai(['train', '--from-feedback', '--episodes', '8'], { HUB_DIR: dir, REDIS_URL: '' });
    assert.equal(none.code, 64, none.stderr);
    assert.match(none.stderr, /no usable feedback/);
    const hub = new CloudHub({ blocks: new BlockStore(join(dir, 'blocks')), metadata: new EmbeddedMetadataStore(join(dir, 'meta')) });
    const recipe = await hub.storeJson('recipe', { formula: [{ material: 'Vanillin', concentrationPct: 60 }, { material: 'Bergamot oil', concentrationPct: 40 }] });
    await hub.storeJson('feedback', { recipeCid: recipe.cid, rating: 2, text: '', preferredNotes: [], dislikedAspects: [] });
    await hub.close();
    const replayed = await fai(['train', '--from-feedback', '--algo', 'ppo', '--episodes', '16', '--hidden', '16', '--json'], { HUB_DIR: dir, REDIS_URL: '' });
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.equal(JSON.parse(replayed.stdout).feedbackMaterials, 2);
  });
});

describe('fai worker', () => {
  it('exits 78 naming REDIS_URL when there is no queue to take jobs from', async () => {
    const result = await fai(['worker'], { REDIS_URL: '' });
    assert.equal(result.code, 78, result.stderr);
    assert.match(result.stderr, /REDIS_URL is not set/);
  });
});
