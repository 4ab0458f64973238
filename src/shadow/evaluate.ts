import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { openHub, redisReady, type CloudHub } from '../hub/index.ts';
import { FormulationEnv, type TrainProgress, seedShippedPolicies } from '../learning/index.ts';
import { pinStoreFor, type Pins } from '../llm/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { writeFileAtomic } from '../system/index.ts';
import { ComparisonLog, parseComparisonLines, type Comparison, type Stage } from './log.ts';
import { offlineModels, readBriefSet, runOffline, type OfflineModels } from './offline.ts';
import { buildReport, ReportSchema, type ReportOptions, type ShadowReport } from './report.ts';
import { reportHtml } from './html.ts';

export const REPORT_JSON = 'shadow_evaluation_results.json';
export const REPORT_HTML = 'shadow_evaluation_report.html';

/**
 * Stores the comparisons a report was built from in the hub — data type `shadow`, JSON lines as the
 * log holds them, a UnixFS file of any size — and returns the report naming them (`inputs.cid`).
 */
export async function storeReportInputs(hub: CloudHub, report: ShadowReport, comparisons: readonly Comparison[]): Promise<ShadowReport> {
  const bytes = new TextEncoder().encode(comparisons.map((c) => `${JSON.stringify(c)}\n`).join(''));
  const record = await hub.storeBytes(bytes, ['shadow-report-inputs', ...report.stages], 'shadow');
  return { ...report, inputs: { cid: record.cid, comparisons: comparisons.length } };
}

/** The comparisons a report's `inputs.cid` names, read back from the hub (every block verified against the CID). */
export async function readReportInputs(hub: CloudHub, cid: string): Promise<Comparison[]> {
  const { record, bytes } = await hub.retrieve(cid);
  if (record.data_type !== 'shadow' || bytes === undefined) throw new FaiError(ErrorCodes.VALIDATION, `--from-hub: ${cid} is a ${record.data_type}, not a shadow report's inputs`, { field: '--from-hub' });
  const { comparisons, skipped } = parseComparisonLines(new TextDecoder().decode(bytes));
  if (skipped > 0) throw new FaiError(ErrorCodes.VALIDATION, `--from-hub: ${skipped} line(s) of ${cid} are not comparisons this version reads`, { field: '--from-hub' });
  return comparisons;
}

/** Writes the JSON report (validated first) and the HTML page beside it; returns their paths. */
export async function writeReports(report: ShadowReport, outDir: string): Promise<{ json: string; html: string }> {
  ReportSchema.parse(report);
  await mkdir(outDir, { recursive: true });
  const json = join(outDir, REPORT_JSON);
  const html = join(outDir, REPORT_HTML);
  await writeFileAtomic(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(html, reportHtml(report));
  return { json, html };
}

export interface EvaluationOptions {
  config: Pick<Config, 'hubDir' | 'redisUrl' | 'hubTtlSeconds' | 'hubGcGraceMs' | 'pinsFile' | 'shadow'>;
  stage: Stage;
  samples: number;
  briefsFile: string;
  outDir: string;
  /** Train a teacher and a student for this many episodes when they are not pinned. */
  trainEpisodes?: number;
  /** Hidden units of that teacher (default: the shipped teacher's). */
  teacherHidden?: number;
  report?: ReportOptions;
  metrics?: Metrics;
  onTrainProgress?: (progress: TrainProgress) => void;
  onProgress?: (done: number, total: number) => void;
}

/**
 * An offline shadow evaluation: the brief set through production, teacher and student (pinned, or
 * trained for the run), every comparison in a log of its own under SHADOW_DIR, then both reports.
 */
export async function shadowEvaluate(options: EvaluationOptions): Promise<{ report: ShadowReport; files: { json: string; html: string }; models: OfflineModels; logDir: string; briefs: { fromSet: number; drawn: number; duplicatesDropped: number } }> {
  const briefs = await readBriefSet(options.briefsFile);
  const opened = openHub(options.config);
  // The pins the service serves: in Redis when REDIS_URL is set (seeded from PINS_FILE), else the file.
  if (opened.redis !== undefined) await redisReady(opened.redis, 5_000).catch(() => undefined);
  const pins: Pins = await pinStoreFor(options.config.pinsFile, opened.redis)
    .read()
    .catch(() => ({}));
  // A fresh clone's pins name the shipped teacher and student: into this hub first when it lacks them.
  await seedShippedPolicies(opened.hub, pins);
  try {
    const env = new FormulationEnv();
    const models = await offlineModels({ hub: opened.hub, pins, env, ...(options.trainEpisodes === undefined ? {} : { trainEpisodes: options.trainEpisodes }), ...(options.teacherHidden === undefined ? {} : { teacherHidden: options.teacherHidden }), ...(options.onTrainProgress === undefined ? {} : { onProgress: options.onTrainProgress }) });
    const logDir = join(options.config.shadow.dir, `offline-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    const log = new ComparisonLog(logDir);
    const run = await runOffline({ models, env, briefs, samples: options.samples, stage: options.stage, log, ...(options.metrics === undefined ? {} : { metrics: options.metrics }), ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) });
    const { comparisons } = await log.readAll();
    const report = await storeReportInputs(opened.hub, buildReport(comparisons, options.report), comparisons);
    return { report, files: await writeReports(report, options.outDir), models, logDir, briefs: { fromSet: run.fromSet, drawn: run.drawn, duplicatesDropped: run.duplicatesDropped } };
  } finally {
    await opened.close();
  }
}
