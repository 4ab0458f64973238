import type { MetricDef } from './definitions.ts';

/**
 * The metric catalogue: every metric of the operations guide, declared once.
 *
 * Names, types and label names are the operations guide's (see DESIGN.md,
 * "Metric catalogue"); users already chart them, so we keep them even where they
 * break Prometheus conventions (`_ms`, gauges named `_rate`), and export the
 * conventional counters beside the sliding-window gauges so `rate()` works too.
 *
 * Alert rules, dashboards and the thresholds table refer to metrics through this
 * object's keys, never through string literals elsewhere.
 */

const LLM_MODES = ['fast', 'balanced', 'creative'] as const;
/** `local` is the embedded deterministic brief model (DESIGN.md). */
const LLM_MODELS = ['qwen', 'mistral', 'llama', 'local'] as const;
const HYBRID_MODES = ['exploration', 'exploitation'] as const;
const RL_ALGORITHMS = ['ppo', 'reinforce', 'hybrid', 'distilled'] as const;
/**
 * The training job a series comes from (`job_id`: its id; `local` for a run outside the job system;
 * `served` for the production policy's own series). Bounded: past 64 distinct ids, `other`.
 * Not `job`: Prometheus's scrape job already has that name.
 */
const JOB_ID = { maxDistinct: 64 } as const;
/** `served`: the production policy's formulas; `training`: a training job's episodes (cleared when the job ends). */
const RL_SOURCES = ['served', 'training'] as const;
/** The shadow evaluation's stages (src/shadow). */
const SHADOW_STAGES = ['development', 'staging', 'production', 'incident'] as const;
/** `live`: comparisons sampled from served requests; `offline`: a replayed brief set (fai shadow run). */
const SHADOW_SOURCES = ['live', 'offline'] as const;
const COMPONENTS = [
  'server',
  'metrics',
  'health',
  'llm',
  'learning',
  'regulation',
  'hub',
  'shadow',
  'runbooks',
  'ops',
  'system',
] as const;
/** How a remediation action ends (src/remediation): the run's outcome, or why nothing ran. */
export const REMEDIATION_OUTCOMES = ['verified', 'undone', 'failed', 'dry_run', 'refused', 'skipped', 'awaiting_approval', 'duplicate', 'closed'] as const;
const CHECK_TYPES = ['ingredient', 'concentration', 'combination'] as const;
/** `client_error` is a 4xx answer: counted, but not held against the service by the thresholds table. */
const SYSTEM_ERROR_TYPES = ['client_error', 'server_error', 'timeout', 'unavailable'] as const;

/**
 * Millisecond buckets for a brief. Edges at 2000, 3000 and 5000 ms are the
 * thresholds table's normal / warning / critical bounds, so the p95 estimate is
 * exact at the points alerts compare against.
 */
const BRIEF_BUCKETS_MS = [50, 100, 250, 500, 750, 1000, 1500, 2000, 2500, 3000, 4000, 5000, 7500, 10000, 15000, 30000];
/** Seconds; edges at 0.5, 1 and 2 s are the restore-latency thresholds. */
const RESTORE_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
const REDIS_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export const catalogue = {
  // --- LLM -----------------------------------------------------------------
  llmBriefElapsedMs: {
    name: 'llm_brief_elapsed_ms',
    help: 'Time each model spent on a brief, in milliseconds, labelled by the model that spent it (a slot that failed or timed out included; the local model its own time), retries included.',
    type: 'histogram',
    group: 'llm',
    guide: true,
    labels: { mode: { values: LLM_MODES }, model: { values: LLM_MODELS } },
    buckets: BRIEF_BUCKETS_MS,
  },
  llmFallbackTotal: {
    name: 'llm_fallback_total',
    help: 'Briefs a model slot could not answer, by slot and reason; the next slot or the local model answered instead.',
    type: 'counter',
    group: 'llm',
    guide: false,
    labels: { from_model: { values: LLM_MODELS }, reason: { values: ['breaker_open', 'timeout', 'unavailable', 'http_error', 'invalid_output'] } },
  },
  llmBriefsTotal: {
    name: 'llm_briefs_total',
    help: 'Briefs answered, by mode and the model that answered; fallback="true" when a slot of the mode was tried or skipped before it (denominator and numerator of the local-fallback share).',
    type: 'counter',
    group: 'llm',
    guide: false,
    labels: { mode: { values: LLM_MODES }, model: { values: LLM_MODELS }, fallback: { values: ['true', 'false'] } },
  },
  llmDownshiftActive: {
    name: 'llm_downshift_active',
    help: '1 while a mode is downshifted (its requests go to the next cheaper mode), 0 otherwise.',
    type: 'gauge',
    group: 'llm',
    guide: false,
    labels: { mode: { values: LLM_MODES } },
  },
  hybridSwitchTotal: {
    name: 'hybrid_switch_total',
    help: 'Switches of the hybrid formulation loop between exploration and exploitation.',
    type: 'counter',
    group: 'llm',
    guide: true,
    labels: { from_mode: { values: HYBRID_MODES }, to_mode: { values: HYBRID_MODES } },
  },
  hybridSwitchRatio: {
    name: 'hybrid_switch_ratio',
    help: 'Share of hybrid-loop steps spent in each mode over the loop window, by training job (its series leave when it ends).',
    type: 'gauge',
    group: 'llm',
    guide: true,
    labels: { mode: { values: HYBRID_MODES }, job_id: JOB_ID },
  },
  // --- RL ------------------------------------------------------------------
  rlRewardMa: {
    name: 'rl_reward_ma',
    help: 'Moving average of rewards over the last `window` episodes: source="served", the formulas the production policy served; source="training", a running training job (cleared when it ends).',
    type: 'gauge',
    group: 'rl',
    guide: true,
    labels: { algorithm: { values: RL_ALGORITHMS }, window: { values: ['100', '1000'] }, source: { values: RL_SOURCES }, job_id: JOB_ID },
  },
  rlClipFrac: {
    name: 'rl_clip_frac',
    help: 'Fraction of samples whose probability ratio was clipped in the last PPO update of a running training job, by job (each job\'s series leaves when it ends).',
    type: 'gauge',
    group: 'rl',
    guide: true,
    labels: { algorithm: { values: RL_ALGORITHMS }, job_id: JOB_ID },
  },
  rlDistillKl: {
    name: 'rl_distill_kl',
    help: 'KL(teacher || student) of the pinned teacher and student on live traffic: the mean over the live shadow window of the pinned pair (restarted, and the old pair\'s series removed, when a pin changes). A distillation job reports its own KL in the job summary; offline runs in their report.',
    type: 'gauge',
    group: 'rl',
    guide: true,
    labels: { teacher: { maxDistinct: 16 }, student: { maxDistinct: 16 } },
  },
  // --- Shadow evaluation ---------------------------------------------------
  shadowComparisonsTotal: {
    name: 'shadow_comparisons_total',
    help: 'Shadow comparisons completed (production, teacher and student on the same brief), by stage; source="live" sampled from served requests, "offline" replayed by fai shadow run.',
    type: 'counter',
    group: 'rl',
    guide: false,
    labels: { stage: { values: SHADOW_STAGES }, source: { values: SHADOW_SOURCES } },
  },
  shadowDroppedTotal: {
    name: 'shadow_dropped_total',
    help: 'Sampled requests whose shadow comparison did not complete, by reason (queue_full: shed; timeout; no_models; error).',
    type: 'counter',
    group: 'rl',
    guide: false,
    labels: { reason: { values: ['queue_full', 'timeout', 'no_models', 'error'] } },
  },
  shadowKlDivergence: {
    name: 'shadow_kl_divergence',
    help: 'KL(teacher || student) of the action distributions per shadow comparison (over the teacher\'s states).',
    type: 'histogram',
    group: 'rl',
    guide: false,
    labels: { stage: { values: SHADOW_STAGES }, source: { values: SHADOW_SOURCES } },
    buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5],
  },
  shadowSpeedupRatio: {
    name: 'shadow_speedup_ratio',
    help: 'Teacher latency / student latency (median of per-comparison ratios) over the last 100 shadow comparisons of the stage and source, for the pinned pair (restarted when a pin changes).',
    type: 'gauge',
    group: 'rl',
    guide: false,
    labels: { stage: { values: SHADOW_STAGES }, source: { values: SHADOW_SOURCES } },
  },
  shadowRewardRetention: {
    name: 'shadow_reward_retention',
    help: 'What the student keeps of the teacher\'s lift over the composer alone, Σ(student − baseline) / Σ(teacher − baseline), over the last 100 shadow comparisons of the stage and source, for the pinned pair (restarted when a pin changes). Alerts and the canary read source="live".',
    type: 'gauge',
    group: 'rl',
    guide: false,
    labels: { stage: { values: SHADOW_STAGES }, source: { values: SHADOW_SOURCES } },
  },
  // --- Regulation ----------------------------------------------------------
  ifraViolationsTotal: {
    name: 'ifra_violations_total',
    help: 'Regulatory violations (IFRA Standards, EU Annex II prohibitions) found by compliance checks.',
    type: 'counter',
    group: 'regulation',
    guide: true,
    labels: {
      // The regulation capability passes the id of a known material (a Standard or an allergen), `other` for anything else.
      ingredient: { maxDistinct: 1000 },
      // unknown_material is counted only in strict mode, where an unknown material fails the check.
      violation_type: { values: ['prohibited', 'over_limit', 'combination', 'unknown_material', 'eu_maximum'] },
      // served: a formula the service proposed (POST /v1/formulas) — what IFRAViolation alerts on; check: a customer's own formula (POST /v1/compliance/check, fai check-formula).
      source: { values: ['served', 'check'] },
    },
  },
  allergenHitsTotal: {
    name: 'allergen_hits_total',
    help: 'EU labelled allergens found by compliance checks: above the declaration threshold (declare) or prohibited (Annex II).',
    type: 'counter',
    group: 'regulation',
    guide: true,
    labels: { allergen: { maxDistinct: 200 }, severity: { values: ['declare', 'prohibited'] } },
  },
  ifraChecksTotal: {
    name: 'ifra_checks_total',
    help: 'Compliance checks run, per check type (denominator of ifra_compliance_rate).',
    type: 'counter',
    group: 'regulation',
    guide: false,
    labels: { check_type: { values: CHECK_TYPES } },
  },
  ifraChecksPassedTotal: {
    name: 'ifra_checks_passed_total',
    help: 'Compliance checks that passed (pass or warning), per check type (numerator of ifra_compliance_rate).',
    type: 'counter',
    group: 'regulation',
    guide: false,
    labels: { check_type: { values: CHECK_TYPES } },
  },
  ifraComplianceRate: {
    name: 'ifra_compliance_rate',
    help: 'Share of compliance checks that passed, per check type, over the last hour (computed at scrape time from the counters).',
    type: 'gauge',
    group: 'regulation',
    guide: true,
    labels: { check_type: { values: CHECK_TYPES } },
    window: { kind: 'ratio', seconds: 3600, numerator: 'ifraChecksPassedTotal', denominator: 'ifraChecksTotal' },
  },
  // --- Cloud Hub -----------------------------------------------------------
  ipfsOperationsTotal: {
    name: 'ipfs_operations_total',
    help: 'Cloud Hub block operations (conventional counter beside ipfs_store_rate).',
    type: 'counter',
    group: 'hub',
    guide: false,
    labels: { operation: { values: ['store', 'retrieve', 'pin'] } },
  },
  ipfsStoreRate: {
    name: 'ipfs_store_rate',
    help: 'Cloud Hub block operations per second over the last 60 s (computed at scrape time from ipfs_operations_total).',
    type: 'gauge',
    group: 'hub',
    guide: true,
    labels: { operation: { values: ['store', 'retrieve', 'pin'] } },
    window: { kind: 'rate', seconds: 60, counter: 'ipfsOperationsTotal' },
  },
  ipfsRestoreLatencySeconds: {
    name: 'ipfs_restore_latency_seconds',
    help: 'Time to restore and verify an object from the Cloud Hub, in seconds.',
    type: 'histogram',
    group: 'hub',
    guide: true,
    labels: { data_type: { values: ['feedback', 'checkpoint', 'recipe', 'shadow'] } },
    buckets: RESTORE_BUCKETS_S,
  },
  ipfsCidErrorsTotal: {
    name: 'ipfs_cid_errors_total',
    help: 'Cloud Hub restores that failed: hash mismatch, malformed CID, missing block, timeout, the shared block store unavailable, I/O.',
    type: 'counter',
    group: 'hub',
    guide: true,
    labels: { error_type: { values: ['hash_mismatch', 'malformed_cid', 'missing_block', 'timeout', 'unavailable', 'io'] } },
  },
  hubGcRunsTotal: {
    name: 'hub_gc_runs_total',
    help: 'Cloud Hub garbage collections: completed, or aborted before the sweep because a block reached from a live record could not be read (nothing was removed).',
    type: 'counter',
    group: 'hub',
    guide: false,
    labels: { outcome: { values: ['completed', 'aborted'] } },
  },
  redisMetadataLatencySeconds: {
    name: 'redis_metadata_latency_seconds',
    help: 'Latency of Cloud Hub metadata operations, in seconds.',
    type: 'histogram',
    group: 'hub',
    guide: true,
    labels: { operation: { values: ['hset', 'hget', 'expire'] } },
    buckets: REDIS_BUCKETS_S,
  },
  // --- System --------------------------------------------------------------
  systemAuthFailuresTotal: {
    name: 'system_auth_failures_total',
    help: 'Requests refused for a missing or wrong bearer token, per token scope (operator routes, the Alertmanager webhook).',
    type: 'counter',
    group: 'system',
    guide: false,
    labels: { scope: { values: ['operator', 'alertmanager'] } },
  },
  systemRequestsTotal: {
    name: 'system_requests_total',
    help: 'Requests handled, per service (conventional counter beside system_rps).',
    type: 'counter',
    group: 'system',
    guide: false,
    labels: { service: { values: ['api', 'worker'] } },
  },
  systemRequestDurationSeconds: {
    name: 'system_request_duration_seconds',
    help: 'Time from receiving a request to sending the answer, per component (the canary analysis compares these per instance).',
    type: 'histogram',
    group: 'system',
    guide: false,
    labels: { component: { values: COMPONENTS } },
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
  systemOperationsTotal: {
    name: 'system_operations_total',
    help: 'Operations attempted, per component (denominator of system_error_rate).',
    type: 'counter',
    group: 'system',
    guide: false,
    labels: { component: { values: COMPONENTS } },
  },
  systemErrorsTotal: {
    name: 'system_errors_total',
    help: 'Failed operations, per component and error type (numerator of system_error_rate).',
    type: 'counter',
    group: 'system',
    guide: false,
    labels: { component: { values: COMPONENTS }, error_type: { values: SYSTEM_ERROR_TYPES } },
  },
  systemErrorRate: {
    name: 'system_error_rate',
    help: 'Failed operations / operations per component over the last 300 s (computed at scrape time from the counters).',
    type: 'gauge',
    group: 'system',
    guide: true,
    labels: { component: { values: COMPONENTS }, error_type: { values: SYSTEM_ERROR_TYPES } },
    window: { kind: 'ratio', seconds: 300, numerator: 'systemErrorsTotal', denominator: 'systemOperationsTotal' },
  },
  systemRps: {
    name: 'system_rps',
    help: 'Requests per second over the last 60 s (computed at scrape time from system_requests_total).',
    type: 'gauge',
    group: 'system',
    guide: true,
    labels: { service: { values: ['api', 'worker'] } },
    window: { kind: 'rate', seconds: 60, counter: 'systemRequestsTotal' },
  },
  workerVramBytes: {
    name: 'worker_vram_bytes',
    help: 'GPU memory held by the LLM server behind each configured slot (its listening process and their children, over every GPU), in bytes, from nvidia-smi; worker_id is slot@host:port. Absent without a GPU, and for a slot served from another host (read that server\'s own metrics).',
    type: 'gauge',
    group: 'system',
    guide: true,
    labels: { worker_id: { maxDistinct: 64 }, model: { values: [...LLM_MODELS, 'policy'] } },
  },
  workerCpuPercent: {
    name: 'worker_cpu_percent',
    help: "CPU time used by the worker process since the previous sample, in percent of one core (from the process's own accounting).",
    type: 'gauge',
    group: 'system',
    guide: true,
    labels: { worker_id: { maxDistinct: 64 } },
  },
  // --- Closed-loop operations (src/remediation) ----------------------------
  remediationActionsTotal: {
    name: 'remediation_actions_total',
    help: 'Alert notifications matched to a remediation rule, by runbook and how they ended (verified, undone, failed: the run; dry_run; refused: kill switch, budget or cool-down; skipped: mode off; awaiting_approval; duplicate: a repeat notification; closed: resolved before it ran).',
    type: 'counter',
    group: 'system',
    guide: false,
    labels: { runbook: { maxDistinct: 16 }, outcome: { values: REMEDIATION_OUTCOMES } },
  },
} as const satisfies Record<string, MetricDef>;

export type Catalogue = typeof catalogue;
export type CatalogueKey = keyof Catalogue;

export function catalogueEntries(): Array<[CatalogueKey, MetricDef]> {
  return Object.entries(catalogue) as Array<[CatalogueKey, MetricDef]>;
}

export function findDefinitionByName(name: string): MetricDef | undefined {
  return catalogueEntries().find(([, def]) => def.name === name)?.[1];
}
