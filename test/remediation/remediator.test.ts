import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { FaiError } from '../../src/errors/index.ts';
import { catalogue, createMetrics, readSamples } from '../../src/metrics/index.ts';
import { RUNBOOKS, type RunbookName } from '../../src/ops/index.ts';
import { DiskRemediationStore, PolicySchema, readPolicy, Remediator, rulesFor, type Action, type Pager, type WebhookPayload } from '../../src/remediation/index.ts';
import { AuditLog, FileLock, type Runbook } from '../../src/runbooks/index.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fai-remediation-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runbooks that count their applies and undos, so a test sees exactly what ran. */
function recordingRunbooks(options: { failVerify?: RunbookName[] } = {}) {
  const applied: string[] = [];
  const make = (name: RunbookName, destructive: boolean): Runbook<Record<string, unknown>> => ({
    name,
    description: 'test',
    destructive,
    plan: async (args) => ({
      summary: [`${name} ${JSON.stringify(args)}`],
      steps: [{ describe: `${name} step`, apply: async () => void applied.push(`apply ${name}`), undo: async () => void applied.push(`undo ${name}`) }],
      verify: async () => {
        if (options.failVerify?.includes(name)) throw new Error(`${name} did not take`);
        return `${name} done`;
      },
    }),
  });
  const destructive = new Set(['rollback', 'emergency-stop', 'clear-cache']);
  const runbooks = Object.fromEntries(RUNBOOKS.map((name) => [name, make(name, destructive.has(name))])) as Record<RunbookName, Runbook<Record<string, unknown>>>;
  return { runbooks, applied };
}

const POLICY = `
dedupWindow: 7d
defaultBudget: { limits: [{ count: 1, window: 10m }], cooldown: 10m }
budgets:
  downshift: { limits: [{ count: 1, window: 10m }, { count: 3, window: 24h }], cooldown: 10m }
rules:
  - { alert: HighLLMLatency, runbook: downshift, args: { canary: 50, samples: 20 }, mode: on }
  - { alert: LowRewardMA, runbook: rollback, mode: dry-run }
  - { alert: IFRAViolation, severity: critical, runbook: regulation-strict, mode: on, page: true }
  - { alert: IFRAViolation, severity: critical, runbook: emergency-stop, mode: on }
  - { alert: HighClipFraction, runbook: pin-update, mode: off }
`;

let n = 0;
function setup(options: { failVerify?: RunbookName[]; pager?: Pager; storeDir?: string; clock?: { now: number } } = {}) {
  const here = join(dir, `case-${n++}`);
  const clock = options.clock ?? { now: Date.parse('2026-11-28T10:00:00Z') };
  const { runbooks, applied } = recordingRunbooks(options);
  const metrics = createMetrics();
  const store = new DiskRemediationStore(options.storeDir ?? join(here, 'remediation'));
  const audit = new AuditLog(join(here, 'audit.jsonl'));
  const make = () =>
    new Remediator({
      policy: PolicySchema.parse(parse(POLICY)),
      store,
      runbooks,
      state: { lock: new FileLock(join(here, 'lock')), audit },
      metrics,
      ...(options.pager === undefined ? {} : { pager: options.pager }),
      now: () => new Date(clock.now),
    });
  return { remediator: make(), make, store, audit, applied, metrics, clock };
}

function payload(status: 'firing' | 'resolved', alert: string, options: { severity?: string; fingerprint?: string; startsAt?: string } = {}): WebhookPayload {
  return {
    version: '4',
    groupKey: '{}:{alertname="x"}',
    truncatedAlerts: 0,
    status,
    receiver: 'automation',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: [
      {
        status,
        labels: { alertname: alert, severity: options.severity ?? 'warning', runbook: 'x' },
        annotations: { summary: `${alert} summary` },
        startsAt: options.startsAt ?? '2026-11-28T09:59:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: options.fingerprint ?? 'a1b2c3d4e5f60718',
      },
    ],
  };
}

async function counter(metrics: ReturnType<typeof createMetrics>, runbook: string, outcome: string): Promise<number> {
  const samples = await readSamples(metrics.registry, catalogue.remediationActionsTotal);
  return samples.find((s) => s.labels.runbook === runbook && s.labels.outcome === outcome)?.value ?? 0;
}

describe('the remediation policy', () => {
  it('ships the issue\'s defaults in configs/remediation.yml', async () => {
    const policy = await readPolicy('configs/remediation.yml');
    const rule = (alert: string, severity: string) => rulesFor(policy, alert, severity).map((r) => `${r.runbook}:${r.mode}${r.page ? ':page' : ''}`);
    assert.deepEqual(rule('HighLLMLatency', 'warning'), ['downshift:on']);
    // The action the alert's text describes: downshift the mode it is about, not move nginx traffic.
    assert.deepEqual(rulesFor(policy, 'HighLLMLatency', 'warning')[0]!.args, { mode: '{{ $labels.mode }}', ttl: 3600 });
    assert.deepEqual(rule('HighWorkerVRAM', 'critical'), ['restart-workers:on']);
    assert.deepEqual(rulesFor(policy, 'HighWorkerVRAM', 'critical')[0]!.args, { model: '{{ $labels.model }}' }, 'the LLM server of the slot the alert names');
    assert.deepEqual(rule('LowRewardMA', 'warning'), ['rollback:on'], 'a broken model is rolled back, once approved (rollback is destructive)');
    // The guide's IFRAViolation (any served violation in 5 minutes): strict mode and a page; past 5 a day, the emergency stop (off until turned on).
    assert.deepEqual(rule('IFRAViolation', 'critical'), ['regulation-strict:on:page']);
    assert.deepEqual(rule('IFRAViolationsPerDay', 'critical'), ['emergency-stop:off']);
    assert.deepEqual(rule('IFRAViolation', 'warning'), []);
    assert.deepEqual(policy.budgets.downshift, { limits: [{ count: 1, window: 600 }, { count: 3, window: 86_400 }], cooldown: 600 });
  });

  it('refuses a bad policy at load, naming the file and the place', async () => {
    const cases: Array<[string, RegExp]> = [
      ['rules: [{ alert: X, runbook: reboot-everything, mode: on }]', /rules\.0\.runbook: must be one of downshift/],
      ['rules: [{ alert: X, runbook: downshift, mode: maybe }]', /rules\.0\.mode: must be one of off, dry-run, on/],
      ['defaultBudget: { limits: [{ count: 1, window: soon }] }\nrules: []', /window: "soon" is not a duration/],
      ['rules: [{ alert: X, runbook: downshift, mode: on }, { alert: X, severity: warning, runbook: downshift, mode: off }]', /X \(warning\) → downshift is listed twice/],
      ['rules: []\nretries: 3', /retries/],
      ['rules: [{ alert: X, runbook: downshift, mode: on', /is not YAML/],
    ];
    for (const [text, message] of cases) {
      const file = join(dir, `policy-${n++}.yml`);
      await writeFile(file, text);
      await assert.rejects(readPolicy(file), (error: FaiError) => error.code === 'FAI_ERR_CONFIG' && message.test(error.message) && error.message.includes(file), text);
    }
  });
});

describe('the remediator', () => {
  it('decides, or withdraws its claim: a busy decision lock answers 503 naming no holder, and the retry runs the runbook exactly once', async () => {
    const here = join(dir, `busy-${n++}`);
    const { runbooks, applied } = recordingRunbooks();
    const store = new DiskRemediationStore(join(here, 'remediation'), { decisionWaitMs: 200 });
    const remediator = new Remediator({ policy: PolicySchema.parse(parse(POLICY)), store, runbooks, state: { lock: new FileLock(join(here, 'lock')), audit: new AuditLog(join(here, 'audit.jsonl')) }, now: () => new Date('2026-11-28T10:00:00Z') });
    // Another decision on downshift holds its lock (a live holder: this process).
    const held = await new FileLock(join(here, 'remediation', 'decide-downshift.lock')).acquire('remediation decision on downshift');
    await assert.rejects(remediator.receive(payload('firing', 'HighLLMLatency')), (error: FaiError) => {
      assert.equal(error.code, 'FAI_ERR_UNAVAILABLE', 'a 503: Alertmanager retries it (it does not retry a 409)');
      assert.match(error.message, /another decision holds a lock/);
      assert.ok(!error.message.includes(String(process.pid)) && !error.message.includes(here), 'no holder pid, host or path in the answer');
      return true;
    });
    assert.deepEqual(await store.list(), [], 'no half-recorded action stays behind');
    await held.release();
    const [retry] = await remediator.receive(payload('firing', 'HighLLMLatency'));
    assert.equal(retry!.decision, 'queued', 'the retry acts: not answered duplicate');
    await remediator.drain();
    const [again] = await remediator.receive(payload('firing', 'HighLLMLatency'));
    assert.equal(again!.decision, 'duplicate', 'once decided, a repeat is a duplicate');
    await remediator.drain();
    assert.deepEqual(applied, ['apply downshift'], 'exactly one run');
  });

  it('decides, or withdraws its claim: a damaged state file is a 5xx (never 400 malformed body), and once it is repaired the retry runs exactly once', async () => {
    const { remediator, store, applied } = setup();
    const remediationDir = (store as unknown as { dir: string }).dir;
    await mkdir(remediationDir, { recursive: true });
    await writeFile(join(remediationDir, 'paused.json'), '{"by": "ops", "at": ');
    await assert.rejects(remediator.receive(payload('firing', 'HighLLMLatency')), (error: FaiError) => {
      assert.equal(error.code, 'FAI_ERR_UNAVAILABLE');
      assert.match(error.message, /damaged/);
      return true;
    });
    await assert.rejects(remediator.receive(payload('firing', 'HighLLMLatency')), (error: FaiError) => error.code === 'FAI_ERR_UNAVAILABLE', 'still failing, still not a duplicate');
    assert.equal((await store.list()).length, 0);
    await rm(join(remediationDir, 'paused.json'));
    const [retry] = await remediator.receive(payload('firing', 'HighLLMLatency'));
    assert.equal(retry!.decision, 'queued');
    await remediator.drain();
    assert.deepEqual(applied, ['apply downshift']);
  });

  it('runs a firing alert once through the engine; repeats and a restarted service only count duplicates', async () => {
    const { remediator, make, store, audit, applied, metrics } = setup();
    const [decision] = await remediator.receive(payload('firing', 'HighLLMLatency'));
    assert.equal(decision!.decision, 'queued');
    await remediator.drain();
    const [action] = await store.list();
    assert.equal(action!.status, 'verified');
    assert.deepEqual(action!.args, { canary: 50, samples: 20 });
    assert.deepEqual(applied, ['apply downshift']);
    const [repeat] = await remediator.receive(payload('firing', 'HighLLMLatency'));
    assert.equal(repeat!.decision, 'duplicate');
    // A new process on the same state: the notification is still known.
    const restarted = make();
    const [afterRestart] = await restarted.receive(payload('firing', 'HighLLMLatency'));
    assert.equal(afterRestart!.decision, 'duplicate');
    await restarted.drain();
    assert.deepEqual(applied, ['apply downshift']);
    assert.equal((await store.list())[0]!.repeats, 2);
    assert.deepEqual((await audit.entries()).map((e) => [e.actor, e.outcome]), [['alertmanager (rule HighLLMLatency)', 'started'], ['alertmanager (rule HighLLMLatency)', 'verified']]);
    assert.equal(await counter(metrics, 'downshift', 'verified'), 1);
    assert.equal(await counter(metrics, 'downshift', 'duplicate'), 2);
  });

  it('never starts anything on resolved; a resolved alert closes an action still waiting for approval', async () => {
    const { remediator, store, applied } = setup();
    const [resolvedFirst] = await remediator.receive(payload('resolved', 'HighLLMLatency'));
    assert.equal(resolvedFirst!.decision, 'no_rule');
    assert.deepEqual(await store.list(), []);
    const decisions = await remediator.receive(payload('firing', 'IFRAViolation', { severity: 'critical' }));
    assert.deepEqual(decisions.map((d) => [d.runbook, d.decision]), [['regulation-strict', 'queued'], ['emergency-stop', 'awaiting_approval']]);
    await remediator.drain();
    await remediator.receive(payload('resolved', 'IFRAViolation', { severity: 'critical' }));
    await remediator.drain();
    const byRunbook = Object.fromEntries((await store.list()).map((a) => [a.runbook, a]));
    assert.equal(byRunbook['regulation-strict']!.status, 'verified');
    assert.ok(byRunbook['regulation-strict']!.resolvedAt);
    assert.equal(byRunbook['emergency-stop']!.status, 'closed');
    assert.match(byRunbook['emergency-stop']!.reason, /resolved before it was approved/);
    assert.deepEqual(applied, ['apply regulation-strict']);
    await assert.rejects(remediator.approve(byRunbook['emergency-stop']!.id, 'ops'), /closed, not awaiting approval/);
  });

  it('holds each runbook to its cool-down and budgets, refusing (and auditing) what exceeds them', async () => {
    const clock = { now: Date.parse('2026-11-28T10:00:00Z') };
    const { remediator, store, audit, applied, metrics } = setup({ clock });
    const fire = async (minute: number) => {
      clock.now = Date.parse('2026-11-28T10:00:00Z') + minute * 60_000;
      const [decision] = await remediator.receive(payload('firing', 'HighLLMLatency', { startsAt: new Date(clock.now - 30_000).toISOString() }));
      await remediator.drain();
      return decision!;
    };
    assert.equal((await fire(0)).decision, 'queued');
    const early = await fire(5);
    assert.equal(early.decision, 'refused');
    assert.match(early.reason, /cool-down: the last downshift ended 300 s ago \(cool-down 600 s\)/);
    assert.equal((await fire(11)).decision, 'queued');
    assert.equal((await fire(22)).decision, 'queued');
    const overDaily = await fire(33);
    assert.equal(overDaily.decision, 'refused');
    assert.match(overDaily.reason, /budget: 3 downshift run\(s\) in the last 86400 s \(at most 3\)/);
    assert.equal(applied.length, 3);
    const refused = (await audit.entries()).filter((e) => e.outcome === 'refused');
    assert.equal(refused.length, 2);
    assert.match(refused[1]!.detail, /refused: budget/);
    assert.equal(await counter(metrics, 'downshift', 'refused'), 2);
    assert.equal((await store.list()).filter((a) => a.status === 'verified').length, 3);
  });

  it('records a notification as received, then its decision: a refused action is never written as queued', async () => {
    const { remediator, store } = setup();
    const written: string[] = [];
    const save = store.save.bind(store);
    const claim = store.claim.bind(store);
    store.save = async (action) => (written.push(action.status), save(action));
    store.claim = async (action, window) => (written.push(action.status), claim(action, window));
    await store.setPaused({ by: 'alice@cli', at: '2026-11-28T09:00:00Z', reason: '' });
    await remediator.receive(payload('firing', 'HighLLMLatency'));
    assert.deepEqual(written, ['received', 'refused']);
  });

  it('does nothing while paused (the kill switch), and acts again after resume', async () => {
    const { remediator, store, applied } = setup();
    await store.setPaused({ by: 'alice@cli', at: '2026-11-28T09:00:00Z', reason: 'maintenance' });
    const [paused] = await remediator.receive(payload('firing', 'HighLLMLatency'));
    assert.equal(paused!.decision, 'refused');
    assert.match(paused!.reason, /paused by alice@cli at 2026-11-28T09:00:00Z: maintenance/);
    await store.setPaused(null);
    const [resumed] = await remediator.receive(payload('firing', 'HighLLMLatency', { fingerprint: 'ffff0000ffff0000' }));
    await remediator.drain();
    assert.equal(resumed!.decision, 'queued');
    assert.deepEqual(applied, ['apply downshift']);
  });

  it('dry-run plans without applying; off records and runs nothing', async () => {
    const { remediator, store, audit, applied } = setup();
    await remediator.receive(payload('firing', 'LowRewardMA'));
    await remediator.receive(payload('firing', 'HighClipFraction'));
    await remediator.drain();
    const actions = await store.list();
    const dry = actions.find((a) => a.runbook === 'rollback');
    const off = actions.find((a) => a.runbook === 'pin-update');
    assert.equal(dry!.status, 'dry_run');
    assert.deepEqual(dry!.plan, ['rollback {}']);
    assert.equal(off!.status, 'skipped');
    assert.match(off!.reason, /mode off/);
    assert.deepEqual(applied, []);
    assert.deepEqual((await audit.entries()).map((e) => e.outcome), ['planned']);
  });

  it('a destructive runbook waits for an approval, then runs once with it', async () => {
    const { remediator, store, audit, applied } = setup();
    await remediator.receive(payload('firing', 'IFRAViolation', { severity: 'critical' }));
    await remediator.drain();
    const waiting = (await store.list()).find((a) => a.runbook === 'emergency-stop')!;
    assert.equal(waiting.status, 'awaiting_approval');
    assert.ok(!applied.includes('apply emergency-stop'));
    const approved = await remediator.approve(waiting.id, 'bob', 'bob@cli: restarting after the incident call');
    assert.equal(approved.status, 'verified');
    assert.equal(approved.approvedBy, 'bob');
    assert.equal(approved.approvalNote, 'bob@cli: restarting after the incident call', 'the note is kept beside the approver, never as the approver');
    assert.ok(applied.includes('apply emergency-stop'));
    assert.equal((await audit.entries()).at(-1)!.actor, 'bob');
    assert.equal((await audit.entries()).at(-1)!.note, `approved ${waiting.id}: bob@cli: restarting after the incident call`);
    await assert.rejects(remediator.approve(waiting.id, 'bob@cli'), (error: FaiError) => error.code === 'FAI_ERR_CONFIRMATION_REQUIRED');
    await assert.rejects(remediator.approve('zzzz-000000', 'bob@cli'), (error: FaiError) => error.code === 'FAI_ERR_NOT_FOUND');
  });

  it('records an undone run as undone, with the runbook\'s reason', async () => {
    const { remediator, store, applied, metrics } = setup({ failVerify: ['downshift'] });
    await remediator.receive(payload('firing', 'HighLLMLatency'));
    await remediator.drain();
    const [action] = await store.list();
    assert.equal(action!.status, 'undone');
    assert.match(action!.reason, /downshift did not take/);
    assert.deepEqual(applied, ['apply downshift', 'undo downshift']);
    assert.equal(await counter(metrics, 'downshift', 'undone'), 1);
  });

  it('pages once per firing when the rule says so, and not on repeats', async () => {
    const pages: string[] = [];
    const { remediator, store } = setup({ pager: async (action) => (pages.push(action.alert.name), 'paged') });
    await remediator.receive(payload('firing', 'IFRAViolation', { severity: 'critical' }));
    await remediator.receive(payload('firing', 'IFRAViolation', { severity: 'critical' }));
    await remediator.drain();
    assert.deepEqual(pages, ['IFRAViolation']);
    assert.equal((await store.list()).find((a) => a.runbook === 'regulation-strict')!.paged, 'paged');
  });

  it('closes actions a stopped process left queued or running as failed', async () => {
    const { make, store, metrics } = setup();
    const left: Action = {
      id: 'abc-123456',
      dedupKey: 'k',
      alert: { name: 'HighLLMLatency', severity: 'warning', fingerprint: 'aa', startsAt: '2026-11-28T09:00:00Z', labels: {} },
      runbook: 'downshift',
      args: {},
      mode: 'on',
      page: false,
      status: 'running',
      reason: '',
      plan: [],
      receivedAt: '2026-11-28T09:00:01Z',
      repeats: 0,
    };
    await store.save(left);
    assert.equal(await make().recover(), 1);
    const [action] = await store.list();
    assert.equal(action!.status, 'failed');
    assert.match(action!.reason, /stopped while it was running/);
    assert.equal(await counter(metrics, 'downshift', 'failed'), 1);
  });

  it('keeps its state bounded: repeat notifications are compacted away, ended actions past the retention dropped, open ones kept', async () => {
    const here = join(dir, `bounded-${n++}`);
    const clock = { now: Date.parse('2026-11-28T10:00:00Z') };
    const store = new DiskRemediationStore(here, { retentionMs: 86_400_000, now: () => clock.now });
    const base = { alert: { name: 'HighLLMLatency', severity: 'warning', fingerprint: 'aa', startsAt: '2026-11-01T00:00:00Z', labels: {} }, runbook: 'downshift' as const, args: {}, mode: 'on' as const, page: false, reason: '', plan: [], repeats: 0 };
    await store.save({ ...base, id: 'old-ended', dedupKey: 'k-old', status: 'verified', receivedAt: '2026-11-20T00:00:00Z', finishedAt: '2026-11-20T00:01:00Z' });
    await store.save({ ...base, id: 'old-open', dedupKey: 'k-open', status: 'awaiting_approval', receivedAt: '2026-11-20T00:00:00Z' });
    const repeated = { ...base, id: 'repeated', dedupKey: 'k-rep', status: 'verified' as const, receivedAt: '2026-11-28T09:00:00Z', finishedAt: '2026-11-28T09:01:00Z' };
    for (let i = 0; i < 3_000; i++) await store.save({ ...repeated, repeats: i });
    const lines = (await readFile(join(here, 'actions.jsonl'), 'utf8')).trim().split('\n').length;
    assert.ok(lines <= 1_001, `${lines} lines for 3 actions and 3,000 repeats: compacted`);
    const byId = Object.fromEntries((await store.list()).map((a) => [a.id, a]));
    assert.deepEqual(Object.keys(byId).sort(), ['old-open', 'repeated'], 'the ended action past the retention is gone; the open one stays whatever its age');
    assert.equal(byId.repeated!.repeats, 2_999, 'the last snapshot kept');
    assert.deepEqual((await store.open()).map((a) => a.id), ['old-open']);
    assert.deepEqual((await store.withKey('k-rep')).map((a) => a.id), ['repeated']);
    // A second store on the same directory (the CLI) reads the compacted log the same.
    assert.deepEqual((await new DiskRemediationStore(here).list()).map((a) => a.id).sort(), ['old-open', 'repeated']);
  });

  it('on restart closes only its own instance\'s actions in flight, never those of another instance sharing the state', async () => {
    const { store, make } = setup();
    const base = { dedupKey: 'k', alert: { name: 'HighLLMLatency', severity: 'warning', fingerprint: 'aa', startsAt: '2026-11-28T09:00:00Z', labels: {} }, runbook: 'downshift' as const, args: {}, mode: 'on' as const, page: false, status: 'running' as const, reason: '', plan: [], receivedAt: '2026-11-28T09:00:01Z', repeats: 0 };
    await store.save({ ...base, id: 'own-111111', instance: 'host-a/stable' });
    await store.save({ ...base, id: 'other-22222', instance: 'host-b/canary' });
    const restarted = new Remediator({ ...(make() as unknown as { options: object }).options, instance: 'host-a/stable' } as never);
    assert.equal(await restarted.recover(), 1);
    const byId = Object.fromEntries((await store.list()).map((a) => [a.id, a.status]));
    assert.deepEqual(byId, { 'own-111111': 'failed', 'other-22222': 'running' });
  });

  it('decides a budget of one once when two firings arrive at the same moment (decision and status are one step per runbook)', async () => {
    const { remediator, applied } = setup();
    const both = await Promise.all(['1111111111111111', '2222222222222222'].map((fingerprint) => remediator.receive(payload('firing', 'HighLLMLatency', { fingerprint }))));
    await remediator.drain();
    assert.deepEqual(both.map((d) => d[0]!.decision).sort(), ['queued', 'refused']);
    assert.match(both.flat().find((d) => d.decision === 'refused')!.reason, /already has a run|budget|cool-down/);
    assert.deepEqual(applied, ['apply downshift']);
  });

  it('runs a destructive action once when two approvals arrive at the same moment', async () => {
    const { remediator, applied } = setup();
    await remediator.receive(payload('firing', 'IFRAViolation', { severity: 'critical' }));
    await remediator.drain();
    const waiting = (await remediator['options'].store.list()).find((a) => a.runbook === 'emergency-stop')!;
    const outcomes = await Promise.allSettled([remediator.approve(waiting.id, 'operator'), remediator.approve(waiting.id, 'operator')]);
    assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    assert.equal((rejected.reason as FaiError).code, 'FAI_ERR_CONFIRMATION_REQUIRED');
    assert.deepEqual(applied.filter((a) => a === 'apply emergency-stop'), ['apply emergency-stop']);
  });
});

describe('rule arguments from alert labels', () => {
  it("fills {{ $labels.NAME }} from the alert, and refuses an alert without the label (acting on a guess acts on the wrong thing)", async () => {
    const here = join(dir, `templated-${n++}`);
    const { runbooks, applied } = recordingRunbooks();
    const store = new DiskRemediationStore(join(here, 'remediation'));
    const policy = PolicySchema.parse(parse(`rules:\n  - { alert: HighLLMLatency, runbook: downshift, args: { mode: '{{ $labels.mode }}', note: 'p95 of {{$labels.mode}}/{{ $labels.model }}' }, mode: on }\n`));
    const remediator = new Remediator({ policy, store, runbooks, state: { lock: new FileLock(join(here, 'lock')), audit: new AuditLog(join(here, 'audit.jsonl')) }, now: () => new Date('2026-11-28T10:00:00Z') });
    const firing = payload('firing', 'HighLLMLatency');
    firing.alerts[0]!.labels = { ...firing.alerts[0]!.labels, mode: 'creative', model: 'llama' };
    assert.equal((await remediator.receive(firing))[0]!.decision, 'queued');
    await remediator.drain();
    const [action] = await store.list();
    assert.deepEqual(action!.args, { mode: 'creative', note: 'p95 of creative/llama' });
    assert.deepEqual(applied, ['apply downshift']);
    const unlabelled = payload('firing', 'HighLLMLatency', { fingerprint: '9999999999999999' });
    const [decision] = await remediator.receive(unlabelled);
    assert.equal(decision!.decision, 'refused');
    assert.match(decision!.reason, /argument mode needs the alert's label mode/);
    assert.deepEqual(applied, ['apply downshift'], 'nothing more ran');
  });
});
