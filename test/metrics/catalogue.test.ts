import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogue, catalogueEntries, findDefinitionByName, type MetricDef } from '../../src/metrics/index.ts';

/** The operations guide's table (DESIGN.md, "Metric catalogue"): name, type, label names. */
const GUIDE: ReadonlyArray<[string, MetricDef['type'], string[]]> = [
  ['llm_brief_elapsed_ms', 'histogram', ['mode', 'model']],
  ['hybrid_switch_total', 'counter', ['from_mode', 'to_mode']],
  ['hybrid_switch_ratio', 'gauge', ['mode', 'job_id']], // job_id: each training job's own series (issue 28)
  ['rl_reward_ma', 'gauge', ['algorithm', 'window', 'source', 'job_id']],
  ['rl_clip_frac', 'gauge', ['algorithm', 'job_id']],
  ['rl_distill_kl', 'gauge', ['teacher', 'student']],
  ['ifra_violations_total', 'counter', ['ingredient', 'violation_type', 'source']], // source: served | check (issue 18: the alert watches what the service proposed)
  ['allergen_hits_total', 'counter', ['allergen', 'severity']],
  ['ifra_compliance_rate', 'gauge', ['check_type']],
  ['ipfs_store_rate', 'gauge', ['operation']],
  ['ipfs_restore_latency_seconds', 'histogram', ['data_type']],
  ['ipfs_cid_errors_total', 'counter', ['error_type']],
  ['redis_metadata_latency_seconds', 'histogram', ['operation']],
  ['system_error_rate', 'gauge', ['component', 'error_type']],
  ['system_rps', 'gauge', ['service']],
  ['worker_vram_bytes', 'gauge', ['worker_id', 'model']],
  ['worker_cpu_percent', 'gauge', ['worker_id']],
];

function values(def: MetricDef, label: string): readonly string[] {
  const spec = def.labels[label];
  assert.ok(spec !== undefined && 'values' in spec, `${def.name}.${label} has a fixed value set`);
  return spec.values;
}

describe('metric catalogue', () => {
  it('declares the 17 metrics of the operations guide, exactly, each once', () => {
    const guide = catalogueEntries().filter(([, def]) => def.guide);
    assert.equal(guide.length, 17);
    for (const [name, type, labels] of GUIDE) {
      const def = findDefinitionByName(name);
      assert.ok(def, `${name} is declared`);
      assert.equal(def.type, type, `${name} type`);
      assert.deepEqual(Object.keys(def.labels), labels, `${name} labels`);
      assert.ok(def.help.length > 20, `${name} has a help text`);
    }
    const names = catalogueEntries().map(([, def]) => def.name);
    assert.equal(new Set(names).size, names.length, 'no name is declared twice');
  });

  it('keeps the guide label sets, with `local` for the embedded brief model', () => {
    assert.deepEqual(values(catalogue.llmBriefElapsedMs, 'mode'), ['fast', 'balanced', 'creative']);
    assert.deepEqual(values(catalogue.llmBriefElapsedMs, 'model'), ['qwen', 'mistral', 'llama', 'local']);
    assert.deepEqual(values(catalogue.hybridSwitchTotal, 'from_mode'), ['exploration', 'exploitation']);
    assert.deepEqual(values(catalogue.rlRewardMa, 'algorithm'), ['ppo', 'reinforce', 'hybrid', 'distilled']);
    assert.deepEqual(values(catalogue.rlRewardMa, 'source'), ['served', 'training']);
    assert.deepEqual(values(catalogue.rlRewardMa, 'window'), ['100', '1000']);
    assert.deepEqual(values(catalogue.ifraComplianceRate, 'check_type'), ['ingredient', 'concentration', 'combination']);
    assert.deepEqual(values(catalogue.allergenHitsTotal, 'severity'), ['declare', 'prohibited']);
    assert.deepEqual(values(catalogue.ipfsStoreRate, 'operation'), ['store', 'retrieve', 'pin']);
    // The guide's three data types, and ours: shadow (the comparisons behind a shadow report).
    assert.deepEqual(values(catalogue.ipfsRestoreLatencySeconds, 'data_type'), ['feedback', 'checkpoint', 'recipe', 'shadow']);
    assert.deepEqual(values(catalogue.redisMetadataLatencySeconds, 'operation'), ['hset', 'hget', 'expire']);
  });

  it('gives llm_brief_elapsed_ms millisecond buckets with edges at 2000, 3000 and 5000', () => {
    const buckets = catalogue.llmBriefElapsedMs.buckets;
    for (const edge of [2000, 3000, 5000]) assert.ok(buckets.includes(edge), `edge ${edge}`);
    assert.deepEqual([...buckets], [...buckets].sort((a, b) => a - b), 'ascending');
    assert.ok(buckets[0]! >= 1 && buckets.at(-1)! >= 10_000, 'spans milliseconds to tens of seconds');
  });

  it('puts restore-latency bucket edges at the thresholds 0.5, 1 and 2 seconds', () => {
    for (const edge of [0.5, 1, 2]) assert.ok(catalogue.ipfsRestoreLatencySeconds.buckets.includes(edge));
  });

  it('computes the sliding-window gauges from conventional counters declared beside them', () => {
    const windowed = catalogueEntries().filter(([, def]) => 'window' in def);
    assert.deepEqual(windowed.map(([, def]) => def.name).sort(), ['ifra_compliance_rate', 'ipfs_store_rate', 'system_error_rate', 'system_rps']);
    for (const [, def] of windowed) {
      assert.ok('window' in def);
      const sources = def.window.kind === 'rate' ? [def.window.counter] : [def.window.numerator, def.window.denominator];
      for (const source of sources) {
        const counter = (catalogue as Record<string, MetricDef>)[source];
        assert.ok(counter, `${def.name} source ${source} exists`);
        assert.equal(counter.type, 'counter');
        assert.ok(counter.name.endsWith('_total'), `${counter.name} is a conventional counter`);
      }
    }
    assert.equal(catalogue.ipfsOperationsTotal.name, 'ipfs_operations_total');
  });
});
