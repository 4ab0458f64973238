/**
 * Bounded state (issue 29): what one decision costs with a long history, side by side in one run.
 *
 * 1. Remediation: 30,000 past actions (≈ 14 MB of actions.jsonl), then one Alertmanager notification
 *    of 40 alerts, decided by the Remediator on (a) our disk store — an index read once and then only
 *    what was appended — and (b) a baseline that re-reads and re-parses the whole log on every look,
 *    as the store did before.
 * 2. The hub's on-disk listing: `list(type, 20)` over 40,000 records, our store (kept in order) against
 *    a baseline that sorts every record per call, as it did before.
 *
 *   make bench-state
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { EmbeddedMetadataStore, type ObjectRecord } from '../src/hub/index.ts';
import { RUNBOOKS, type RunbookName } from '../src/ops/index.ts';
import { DiskRemediationStore, PolicySchema, Remediator, type Action, type RemediationStore, type WebhookPayload } from '../src/remediation/index.ts';
import { AuditLog, FileLock, type Runbook } from '../src/runbooks/index.ts';

const PAST = 30_000;
const ALERTS = 40;

/** The store as it was: every look reads and parses the whole log (the baseline). */
class FullScanStore extends DiskRemediationStore {
  private readonly file: string;
  constructor(dir: string) {
    super(dir);
    this.file = join(dir, 'actions.jsonl');
  }
  private async scan(): Promise<Action[]> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    const byId = new Map<string, Action>();
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const action = JSON.parse(line) as Action & { released?: true };
        byId.delete(action.id);
        if (action.released !== true) byId.set(action.id, action);
      } catch {
        // torn
      }
    }
    return [...byId.values()].sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  }
  override async list(): Promise<Action[]> {
    return this.scan();
  }
  override async get(id: string): Promise<Action | undefined> {
    return (await this.scan()).find((a) => a.id === id);
  }
  override async withKey(key: string): Promise<Action[]> {
    return (await this.scan()).filter((a) => a.dedupKey === key);
  }
  override async ofRunbook(runbook: RunbookName): Promise<Action[]> {
    return (await this.scan()).filter((a) => a.runbook === runbook);
  }
  override async open(): Promise<Action[]> {
    return (await this.scan()).filter((a) => ['received', 'queued', 'running', 'awaiting_approval'].includes(a.status));
  }
  override async claim(action: Action, windowSeconds: number): Promise<{ claimed: true } | { claimed: false; existing: Action }> {
    const since = Date.parse(action.receivedAt) - windowSeconds * 1000;
    const existing = (await this.scan()).find((a) => a.dedupKey === action.dedupKey && Date.parse(a.receivedAt) >= since);
    if (existing !== undefined) return { claimed: false, existing };
    await this.save(action);
    return { claimed: true };
  }
}

function history(): string {
  const lines: string[] = [];
  const start = Date.parse('2026-11-01T00:00:00Z');
  for (let i = 0; i < PAST; i++) {
    const at = new Date(start + i * 60_000).toISOString();
    const action: Action = {
      id: `h${i.toString(36)}-${(i % 0xffffff).toString(16).padStart(6, '0')}`,
      dedupKey: `fp${i}:${Date.parse(at)}:downshift`,
      alert: { name: 'HighLLMLatency', severity: 'warning', fingerprint: `fp${i}`, startsAt: at, labels: { alertname: 'HighLLMLatency', severity: 'warning', mode: 'creative', runbook: 'downshift', component: 'llm' } },
      runbook: 'downshift',
      args: { mode: 'creative' },
      mode: 'on',
      page: false,
      status: i % 7 === 0 ? 'verified' : 'refused',
      reason: 'budget: 1 downshift run(s) in the last 600 s (at most 1)',
      plan: ['brief layer: force creative down (its requests go to the next cheaper mode)'],
      receivedAt: at,
      finishedAt: at,
      repeats: 0,
    };
    lines.push(JSON.stringify(action));
  }
  return `${lines.join('\n')}\n`;
}

function notification(): WebhookPayload {
  return {
    version: '4',
    groupKey: '{}:{alertname="HighLLMLatency"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'automation',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: Array.from({ length: ALERTS }, (_, i) => ({
      status: 'firing' as const,
      labels: { alertname: 'HighLLMLatency', severity: 'warning', mode: 'creative', runbook: 'downshift' },
      annotations: {},
      startsAt: '2026-12-06T10:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: `new${i.toString(16).padStart(13, '0')}`,
    })),
  };
}

const noop = Object.fromEntries(
  RUNBOOKS.map((name) => [name, { name, description: 'bench', destructive: false, plan: async () => ({ summary: [name], steps: [], verify: async () => 'ok' }) } satisfies Runbook<Record<string, unknown>>]),
) as unknown as Record<RunbookName, Runbook<Record<string, unknown>>>;
const policy = PolicySchema.parse(parse('rules:\n  - { alert: HighLLMLatency, runbook: downshift, args: { mode: creative }, mode: on }\n'));

async function decide(label: string, make: (dir: string) => RemediationStore, text: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), `fai-bench-state-${label}-`));
  await writeFile(join(dir, 'actions.jsonl'), text);
  const store = make(dir);
  const remediator = new Remediator({ policy, store, runbooks: noop, state: { lock: new FileLock(join(dir, 'lock')), audit: new AuditLog(join(dir, 'audit.jsonl')) }, now: () => new Date('2026-12-06T10:00:30Z') });
  await store.open(); // the service reads its state once when it starts (recover)
  const started = performance.now();
  await remediator.receive(notification());
  await remediator.drain();
  const ms = performance.now() - started;
  await rm(dir, { recursive: true, force: true });
  return ms;
}

const text = history();
console.error(`remediation: ${PAST} past actions (${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB), one notification of ${ALERTS} alerts…`);
const baselineMs = await decide('baseline', (dir) => new FullScanStore(dir), text);
const oursMs = await decide('ours', (dir) => new DiskRemediationStore(dir), text);

// The hub's on-disk listing.
const RECORDS = 40_000;
const metaDir = await mkdtemp(join(tmpdir(), 'fai-bench-state-meta-'));
console.error(`hub listing: ${RECORDS} records on disk…`);
const records: ObjectRecord[] = Array.from({ length: RECORDS }, (_, i) => ({ cid: `bafk${i.toString(36).padStart(10, '0')}`, size: 100, data_type: 'recipe', created_at: new Date(Date.parse('2026-01-01T00:00:00Z') + ((i * 7919) % RECORDS) * 1000).toISOString(), tags: [], checksum: 'a'.repeat(64), pinned: false }));
for (let i = 0; i < RECORDS; i += 500) await Promise.all(records.slice(i, i + 500).map((record) => writeFile(join(metaDir, `${record.cid}.json`), JSON.stringify({ record, expiresAt: null }))));
const meta = new EmbeddedMetadataStore(metaDir);
await meta.list('recipe', 20); // index built once
const LISTS = 200;
let t = performance.now();
for (let i = 0; i < LISTS; i++) await meta.list('recipe', 20);
const listOurs = (performance.now() - t) / LISTS;
t = performance.now();
for (let i = 0; i < LISTS; i++) {
  const all = [...records].sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  all.slice(0, 20);
}
const listBaseline = (performance.now() - t) / LISTS;
await meta.close();
await rm(metaDir, { recursive: true, force: true });

const rows = [
  ['what', 'baseline (as before)', 'ours', 'baseline / ours'],
  [`one ${ALERTS}-alert notification over ${PAST} past actions`, `${baselineMs.toFixed(0)} ms`, `${oursMs.toFixed(0)} ms`, `×${(baselineMs / oursMs).toFixed(1)}`],
  [`hub list(recipe, 20) over ${RECORDS} records`, `${listBaseline.toFixed(2)} ms`, `${listOurs.toFixed(2)} ms`, `×${(listBaseline / listOurs).toFixed(1)}`],
];
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
