import { join, resolve } from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { openHub } from '../../hub/index.ts';
import { buildReport, ComparisonLog, nextRun, retentionText, parseStage, readReportInputs, readSchedule, renderSchedule, shadowEvaluate, storeReportInputs, writeReports, type ShadowReport } from '../../shadow/index.ts';
import { ExitCodes } from '../exit-codes.ts';
import { progressBar } from '../progress.ts';

type Write = (text: string) => void;
const stdout: Write = (text) => process.stdout.write(text);

function marginOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const margin = Number(text);
  if (!(margin > 0 && margin < 1)) throw new FaiError(ErrorCodes.VALIDATION, `--margin: "${text}" is not a share between 0 and 1 (e.g. 0.92)`, { field: '--margin' });
  return margin;
}

/** The headline a person reads first. */
function headline(report: ShadowReport, files: { json: string; html: string }): string {
  const s = report.summary;
  return [
    `${s.total_comparisons} comparisons over ${s.distinct_briefs} distinct briefs (${report.stages.join(', ')})`,
    `lift retention ${retentionText(report)} (teacher +${s.reward.teacher_lift_avg}, student +${s.reward.student_lift_avg} over the composer alone's ${s.reward.baseline_avg}); speedup ×${s.latency.speedup_ratio} [${report.intervals.speedup_ratio.low}, ${report.intervals.speedup_ratio.high}], median ×${s.speedup.median} [${report.intervals.speedup_median.low}, ${report.intervals.speedup_median.high}]; KL avg ${s.kl_divergence.avg} (p95 ${s.kl_divergence.p95}); cosine ${s.cosine_similarity.avg} (production–teacher ${s.cosine_similarity.production_teacher_avg})`,
    `verdict: ${report.verdict.explanation}`,
    `reports: ${files.json}, ${files.html}`,
    ...(report.inputs === undefined ? [] : [`inputs: ${report.inputs.comparisons} comparisons in the hub as ${report.inputs.cid} (fai shadow report --from-hub rebuilds it)`]),
  ].join('\n');
}

/** `fai shadow run`: an offline shadow evaluation of a brief set; writes both reports. */
export async function shadowRun(
  options: { stage: string; samples: number; briefs: string; out?: string; trainEpisodes: number; hidden?: number; train: boolean; margin?: string; json?: boolean },
  write: Write = stdout,
): Promise<number> {
  const stage = parseStage(options.stage);
  const margin = marginOf(options.margin);
  const config = loadConfig();
  const outDir = options.out ?? join(config.shadow.dir, 'reports');
  let trainBar: ReturnType<typeof progressBar> | undefined;
  let bar: ReturnType<typeof progressBar> | undefined;
  const result = await shadowEvaluate({
    config,
    stage,
    samples: options.samples,
    briefsFile: options.briefs,
    outDir,
    ...(options.train ? { trainEpisodes: options.trainEpisodes, ...(options.hidden === undefined ? {} : { teacherHidden: options.hidden }) } : {}),
    ...(margin === undefined ? {} : { report: { margin } }),
    onTrainProgress: (p) => {
      if (trainBar === undefined) {
        process.stderr.write(`teacher and student are not pinned: training a PPO teacher (${options.trainEpisodes} episodes) and distilling a student for this run\n`);
        trainBar = progressBar(options.trainEpisodes, 'episodes');
      }
      trainBar(p.episodes, `reward MA100 ${p.ma100.toFixed(2)}`);
    },
    onProgress: (done) => {
      bar ??= progressBar(options.samples, 'comparisons');
      bar(done);
    },
  });
  if (options.json) {
    write(`${JSON.stringify({ files: result.files, log: result.logDir, inputs: result.report.inputs, briefs: result.briefs, trained: result.models.trained ?? null, summary: result.report.summary, intervals: result.report.intervals, verdict: result.report.verdict }, null, 2)}\n`);
  } else {
    const b = result.briefs;
    write(`briefs: ${b.fromSet} distinct from ${options.briefs}${b.duplicatesDropped > 0 ? ` (${b.duplicatesDropped} duplicates dropped)` : ''}${b.drawn > 0 ? `, ${b.drawn} more drawn fresh from the brief distribution (none a training brief): ${options.samples} asked, each brief compared once` : ''}\n`);
    if (result.models.trained !== undefined) write(`trained for this run: teacher ${result.models.trained.teacherCid}, student ${result.models.trained.studentCid} (pin them with fai runbook pin-update --model formulation-teacher|formulation-student --cid …)\n`);
    write(`${headline(result.report, result.files)}\n`);
  }
  return ExitCodes.OK;
}

/** `fai shadow report`: both reports from the comparisons the service recorded (SHADOW_DIR). */
export async function shadowReport(options: { dir?: string; out?: string; stage?: string; margin?: string; fromHub?: string; json?: boolean }, write: Write = stdout): Promise<number> {
  const config = loadConfig();
  const dir = options.dir ?? config.shadow.dir;
  const stage = options.stage === undefined ? undefined : parseStage(options.stage);
  const margin = marginOf(options.margin);
  const opened = openHub(config);
  try {
    // The comparisons: the log under --dir, or (--from-hub) the inputs an earlier report stored.
    const { comparisons, skipped } = options.fromHub === undefined ? await new ComparisonLog(dir).readAll() : { comparisons: await readReportInputs(opened.hub, options.fromHub), skipped: 0 };
    const chosen = stage === undefined ? comparisons : comparisons.filter((c) => c.stage === stage);
    const built = buildReport(chosen, margin === undefined ? {} : { margin });
    // Stored again even when read from the hub: the same comparisons are the same bytes, hence the same CID.
    const report = await storeReportInputs(opened.hub, built, chosen);
    const files = await writeReports(report, options.out ?? join(dir, 'reports'));
    if (options.json) write(`${JSON.stringify({ files, skipped, inputs: report.inputs, summary: report.summary, intervals: report.intervals, verdict: report.verdict }, null, 2)}\n`);
    else write(`${headline(report, files)}${skipped > 0 ? `\n${skipped} unreadable line(s) skipped` : ''}\n`);
    return ExitCodes.OK;
  } finally {
    await opened.close();
  }
}

/** `fai shadow schedule`: the stage table as crontab lines and systemd units (and the next run of each). */
export async function shadowSchedule(options: { file?: string; root: string; json?: boolean }, write: Write = stdout): Promise<number> {
  const config = loadConfig();
  const schedule = await readSchedule(options.file ?? config.shadow.scheduleFile);
  const rendered = renderSchedule(schedule, resolve(options.root));
  const now = new Date();
  const next = schedule.stages.map((e) => ({ stage: e.stage, when: e.when, samples: e.samples, cron: e.cron ?? null, next: e.cron === undefined ? null : nextRun(e.cron, now).toISOString() }));
  if (options.json) {
    write(`${JSON.stringify({ stages: next, crontab: rendered.crontab, systemd: rendered.systemd }, null, 2)}\n`);
    return ExitCodes.OK;
  }
  write(`${rendered.crontab}\n`);
  for (const unit of rendered.systemd) write(`# --- /etc/systemd/system/${unit.file}\n${unit.content}\n`);
  write(`# enable with: systemctl daemon-reload && systemctl enable --now ${rendered.systemd.filter((u) => u.file.endsWith('.timer')).map((u) => u.file).join(' ')}\n`);
  write(`# or let the service run them itself: SHADOW_SCHEDULE=on make run\n`);
  for (const stage of next) if (stage.next !== null) write(`# next ${stage.stage} run: ${stage.next}\n`);
  return ExitCodes.OK;
}
