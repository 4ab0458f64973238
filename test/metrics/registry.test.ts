import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogue, catalogueEntries, createMetrics, PROM_CLIENT_RENDER, readHistogram, readSamples, type MetricDef, type Metrics } from '../../src/metrics/index.ts';
import { Gauge, Histogram, Registry, type Metric } from 'prom-client';
import { metricsAtLabelBounds } from '../helpers/label-bounds.ts';

/** `# TYPE name type` lines of the exposition text: the families a scraper will see. */
async function exposedTypes(metrics: Metrics): Promise<Map<string, string>> {
  const text = await metrics.registry.metrics();
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

describe('metrics registry', () => {
  it('exports every catalogue family with its type, beside the Node process metrics, in one registry', async () => {
    const types = await exposedTypes(createMetrics());
    for (const [, def] of catalogueEntries()) assert.equal(types.get(def.name), def.type, def.name);
    assert.equal(types.get('process_cpu_user_seconds_total'), 'counter', 'default process metrics');
    assert.equal(types.get('nodejs_eventloop_lag_seconds'), 'gauge', 'default Node metrics');
    assert.equal(types.has('nodejs_active_handles_total'), false, 'no gauge misnamed _total');
  });

  it('starts with only the counters whose labels are all enumerated, at 0: nothing is set from a constant', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const text = await metrics.registry.metrics();
    const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    const counters = new Set<string>(Object.values(catalogue).filter((def) => def.type === 'counter' && Object.values(def.labels).every((spec) => 'values' in spec)).map((def) => def.name));
    assert.ok(samples.length > 0);
    for (const sample of samples) {
      assert.match(sample, / 0$/, sample);
      assert.ok(counters.has(sample.replace(/[{ ].*$/, '')), `${sample}: not an enumerable counter`);
    }
    // Every combination, so a first error shows rate() a step from 0 (system_errors_total: 4 error types per component).
    assert.ok(samples.includes('system_errors_total{component="hub",error_type="server_error"} 0'));
    assert.ok(samples.includes('llm_fallback_total{from_model="qwen",reason="timeout"} 0'));
    // An open label (an ingredient) cannot be enumerated: that counter starts with no series, and its rules count new series.
    assert.ok(!samples.some((s) => s.startsWith('ifra_violations_total')));
  });

  it('observes a brief latency into the millisecond buckets', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.llmBriefElapsedMs.observe({ mode: 'balanced', model: 'qwen' }, 2500);
    metrics.llmBriefElapsedMs.observe({ mode: 'balanced', model: 'qwen' }, 900);
    const [series] = await readHistogram(metrics.registry, catalogue.llmBriefElapsedMs);
    assert.deepEqual(series?.labels, { mode: 'balanced', model: 'qwen' });
    assert.equal(series?.count, 2);
    assert.equal(series?.sum, 3400);
    const at = (le: number) => series?.buckets.find((b) => b.le === le)?.count;
    assert.equal(at(1000), 1);
    assert.equal(at(2000), 1);
    assert.equal(at(3000), 2);
    assert.equal(at(Infinity), 2);
    assert.match(await metrics.registry.metrics(), /^llm_brief_elapsed_ms_bucket\{le="3000",mode="balanced",model="qwen"\} 2$/m);
  });

  it('maps label values outside the known set to `other`, so input cannot blow up cardinality', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.llmBriefElapsedMs.observe({ mode: 'turbo', model: 'gpt-9' }, 10);
    for (let i = 0; i < 100; i++) metrics.workerCpuPercent.set({ worker_id: `w${i}` }, 1);
    const [brief] = await readHistogram(metrics.registry, catalogue.llmBriefElapsedMs);
    assert.deepEqual(brief?.labels, { mode: 'other', model: 'other' });
    const workers = (await readSamples(metrics.registry, catalogue.workerCpuPercent)).map((s) => s.labels.worker_id);
    assert.equal(workers.length, 65, '64 distinct worker ids, then `other`');
    assert.ok(workers.includes('other'));
  });

  it('refuses values that would corrupt a series', () => {
    const metrics = createMetrics({ defaultMetrics: false });
    assert.throws(() => metrics.systemRequestsTotal.inc({ service: 'api' }, -1), /cannot decrease/);
    assert.throws(() => metrics.rlClipFrac.set({ algorithm: 'ppo', job_id: 'job-1' }, Number.NaN), /not a finite number/);
    assert.throws(() => metrics.ipfsRestoreLatencySeconds.observe({ data_type: 'recipe' }, Infinity), /not a finite number/);
    assert.throws(() => metrics.rlClipFrac.set({} as { algorithm: string; job_id: string }, 0.1), /label "algorithm" is missing/);
  });

  it('moves system_rps and system_error_rate only through the counters they are computed from', async () => {
    let now = 1_000_000;
    const metrics = createMetrics({ defaultMetrics: false, now: () => now });
    now += 60_000;
    for (let i = 0; i < 120; i++) metrics.systemRequestsTotal.inc({ service: 'api' });
    metrics.systemOperationsTotal.inc({ component: 'hub' }, 50);
    metrics.systemErrorsTotal.inc({ component: 'hub', error_type: 'timeout' }, 2);
    assert.equal((await readSamples(metrics.registry, catalogue.systemRequestsTotal))[0]?.value, 120);
    assert.equal((await readSamples(metrics.registry, catalogue.systemRps))[0]?.value, 2, '120 requests over 60 s');
    const rates = Object.fromEntries((await readSamples(metrics.registry, catalogue.systemErrorRate)).map((s) => [s.labels.error_type, s.value]));
    assert.deepEqual(rates, { client_error: 0, server_error: 0, timeout: 0.04, unavailable: 0 });
  });
});

describe('the scrape at the label bounds', () => {
  /** Every counter's block of the scrape beside prom-client's own rendering of the same counter. */
  async function assertCountersRenderAsPromClient(metrics: Metrics): Promise<number> {
    return assertRenderAsPromClient(metrics, (def) => def.type === 'counter');
  }

  /**
   * The blocks of the scrape of the catalogue metrics `which` picks, each beside prom-client's own
   * rendering of the same metric (its get(), which reads the same series). Returns how many.
   */
  async function assertRenderAsPromClient(metrics: Metrics, which: (def: MetricDef) => boolean): Promise<number> {
    const ours = await metrics.registry.metrics();
    const names = new Set(catalogueEntries().filter(([, def]) => which(def)).map(([, def]) => def.name));
    let compared = 0;
    for (const metric of metrics.registry.getMetricsAsArray() as unknown as Metric[]) {
      const name = (metric as unknown as { name: string }).name;
      if (!names.has(name)) continue;
      compared++;
      const rendered = ours.split('\n\n').find((block) => block.startsWith(`# HELP ${name} `));
      assert.equal(rendered, await PROM_CLIENT_RENDER.call(metrics.registry, metric), name);
    }
    return compared;
  }

  it('renders every counter exactly as prom-client would, from the series it keeps', async () => {
    const { metrics, series } = metricsAtLabelBounds({ defaultMetrics: false });
    assert.ok(series > 5_000, `${series} series`);
    assert.ok((await assertCountersRenderAsPromClient(metrics)) >= 10);
  });

  it('renders every gauge exactly as prom-client would, from the series it keeps: set, set again, removed and set again', async () => {
    const { metrics } = metricsAtLabelBounds({ defaultMetrics: false });
    const plainGauge = (def: MetricDef) => def.type === 'gauge' && !('window' in def);
    assert.ok((await assertRenderAsPromClient(metrics, plainGauge)) >= 5);
    // A series set again keeps its place; one removed and set again goes last, as in prom-client's own map.
    const labels = { algorithm: 'ppo', window: '100', source: 'served', job_id: 'job_id_0' } as const;
    metrics.rlRewardMa.set(labels, 1.5);
    metrics.rlRewardMa.remove({ ...labels, algorithm: 'reinforce' });
    metrics.rlRewardMa.set({ ...labels, algorithm: 'reinforce' }, -2.25);
    metrics.workerVramBytes.remove({ worker_id: 'worker_id_0', model: 'qwen' });
    assert.ok((await assertRenderAsPromClient(metrics, plainGauge)) >= 5);
    const text = await metrics.registry.metrics();
    assert.match(text, /^rl_reward_ma\{algorithm="reinforce",window="100",source="served",job_id="job_id_0"\} -2\.25\n\n/m, 'the series set again is the last of its block');
    assert.doesNotMatch(text, /^worker_vram_bytes\{worker_id="worker_id_0",model="qwen"\}/m);
  });

  it('keeps a gauge\'s series in the order prom-client\'s own Gauge keeps them, through the same sets and removals', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const registry = new Registry();
    const theirs = new Gauge({ name: 'rl_clip_frac', help: catalogue.rlClipFrac.help, labelNames: ['algorithm', 'job_id'], registers: [registry] });
    const steps: Array<[labels: { algorithm: 'ppo' | 'hybrid' | 'reinforce'; job_id: string }, value: number | null]> = [
      [{ algorithm: 'ppo', job_id: 'a' }, 0.1],
      [{ algorithm: 'hybrid', job_id: 'b' }, 0.2],
      [{ algorithm: 'reinforce', job_id: 'c' }, 0.3],
      [{ algorithm: 'ppo', job_id: 'a' }, 0.4],
      [{ algorithm: 'hybrid', job_id: 'b' }, null],
      [{ algorithm: 'hybrid', job_id: 'b' }, 0.5],
    ];
    for (const [labels, value] of steps) {
      if (value === null) {
        metrics.rlClipFrac.remove(labels);
        theirs.remove(labels);
      } else {
        metrics.rlClipFrac.set(labels, value);
        theirs.set(labels, value);
      }
    }
    const block = (text: string) => text.split('\n\n').find((b) => b.startsWith('# HELP rl_clip_frac '))!.trim();
    assert.equal(block(await metrics.registry.metrics()), block(await registry.metrics()));
  });

  it('escapes label values as prom-client does: backslash, quote, newline', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.ifraViolationsTotal.inc({ ingredient: 'odd "name"\\with\nnewline', violation_type: 'prohibited', source: 'check' });
    assert.ok((await assertCountersRenderAsPromClient(metrics)) >= 10);
    assert.match(await metrics.registry.metrics(), /ingredient="odd \\"name\\"\\\\with\\nnewline"/);
  });

  it('is answered from the series, not by recounting them: a scrape moves no counter', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.systemRequestsTotal.inc({ service: 'api' }, 3);
    await metrics.registry.metrics();
    await metrics.registry.metrics();
    assert.match(await metrics.registry.metrics(), /^system_requests_total\{service="api"\} 3$/m);
  });

  it('renders and lists a histogram exactly as the prom-client Histogram would, through a bound series and a labelled observe alike', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const def = catalogue.systemRequestDurationSeconds;
    const theirs = new Histogram({ name: def.name, help: def.help, labelNames: ['component'], buckets: [...def.buckets], registers: [new Registry()] });
    const bound = metrics.systemRequestDurationSeconds.seriesOf({ component: 'regulation' });
    // Below, on and above the edges, on the last edge and past it (+Inf).
    const values = [0, def.buckets[0]!, def.buckets[0]! * 1.5, def.buckets[2]!, def.buckets.at(-1)!, def.buckets.at(-1)! * 2, 0.0123];
    for (const value of values) {
      bound.observe(value);
      metrics.systemRequestDurationSeconds.observe({ component: 'hub' }, value / 2);
      theirs.observe({ component: 'regulation' }, value);
      theirs.observe({ component: 'hub' }, value / 2);
    }
    const ours = metrics.registry.getSingleMetric(def.name)!;
    assert.equal(await PROM_CLIENT_RENDER.call(metrics.registry, ours), await PROM_CLIENT_RENDER.call(new Registry(), theirs as unknown as Metric));
    assert.deepEqual(await ours.get(), await theirs.get());
    assert.throws(() => bound.observe(Number.NaN), /not a finite number/);
    const [regulation] = await readHistogram(metrics.registry, def);
    assert.equal(regulation?.count, values.length);
  });
});
