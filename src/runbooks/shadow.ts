import { readFile } from 'node:fs/promises';
import { loadConfig } from '../config/index.ts';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { parseStage, ReportSchema, retentionText, shadowEvaluate } from '../shadow/index.ts';
import type { Deployment } from './deployment.ts';
import type { Runbook } from './engine.ts';

export interface ShadowEvalArgs extends Record<string, unknown> {
  stage?: string;
  samples?: number;
  briefs?: string;
  out?: string;
  trainEpisodes?: number;
  /** Hidden units of the teacher trained for the run (default: the shipped teacher's). */
  teacherHidden?: number;
}

/**
 * Runs the offline shadow evaluation (src/shadow): the brief set through production, the pinned
 * teacher and student — trained for the run when they are not pinned — and writes both reports.
 * Verified by reading the JSON report back against its schema.
 */
export function shadowEvalRunbook(deployment: Deployment): Runbook<ShadowEvalArgs> {
  return {
    name: 'shadow-eval',
    description: 'offline shadow evaluation of teacher and student beside production: comparisons, shadow_evaluation_results.json and the HTML report',
    destructive: false,
    plan: async (args) => {
      const stage = parseStage(args.stage ?? 'staging');
      const samples = args.samples ?? 50;
      const trainEpisodes = args.trainEpisodes ?? 4000;
      const briefsFile = args.briefs ?? 'examples/heldout-briefs.json';
      // The deployment's pins; everything else (hub, SHADOW_DIR) from this machine's configuration.
      const config = { ...loadConfig(), pinsFile: deployment.pinsFile };
      const outDir = args.out ?? `${config.shadow.dir}/reports`;
      let written: { json: string; html: string } | undefined;
      let headline = '';
      return {
        summary: [`${samples} comparisons of ${briefsFile} at stage ${stage}`, `models: the pins in ${deployment.pinsFile} (a teacher of ${trainEpisodes} PPO episodes${args.teacherHidden === undefined ? '' : `, ${args.teacherHidden} hidden units,`} and its student are trained for the run when not pinned)`, `reports into ${outDir}`],
        steps: [
          {
            describe: 'run the comparisons and write both reports',
            apply: async () => {
              const result = await shadowEvaluate({ config, stage, samples, briefsFile, outDir, trainEpisodes, ...(args.teacherHidden === undefined ? {} : { teacherHidden: args.teacherHidden }) });
              written = result.files;
              const s = result.report.summary;
              headline = `${s.total_comparisons} comparisons over ${s.distinct_briefs} distinct briefs: lift retention ${retentionText(result.report)}, speedup ×${s.latency.speedup_ratio} (median ×${s.speedup.median} [${result.report.intervals.speedup_median.low}, ${result.report.intervals.speedup_median.high}]), KL ${s.kl_divergence.avg}; ${result.report.verdict.student_non_inferior ? 'student non-inferior' : 'student not shown non-inferior'}; inputs ${result.report.inputs?.cid ?? 'not stored'}`;
            },
          },
        ],
        verify: async () => {
          if (written === undefined) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, 'no report was written');
          const parsed = ReportSchema.safeParse(JSON.parse(await readFile(written.json, 'utf8')));
          if (!parsed.success) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `${written.json} does not match the report schema: ${parsed.error.issues[0]?.message}`);
          const html = await readFile(written.html, 'utf8');
          if (!html.includes('__chartsRendered')) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `${written.html} is not the report page`);
          return `${headline}; ${written.json}, ${written.html}`;
        },
      };
    },
  };
}
