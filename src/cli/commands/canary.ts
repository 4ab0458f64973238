import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { analyzeCanary, DEFAULT_CRITERIA, type Analysis, type Criteria } from '../../canary/index.ts';
import { parseDuration } from '../../remediation/index.ts';
import { loadDeployment, runCanary } from '../../runbooks/index.ts';
import { ExitCodes } from '../exit-codes.ts';
import { progressBar } from '../progress.ts';

type Write = (text: string) => void;
const stdout: Write = (text) => process.stdout.write(text);

export interface CriteriaOptions {
  alpha: string;
  errorMargin: string;
  latencyMargin: string;
  minSamples: string;
}

function fraction(text: string, flag: string, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value >= max) throw new FaiError(ErrorCodes.VALIDATION, `${flag}: "${text}" must be a number above 0 and below ${max}`, { field: flag });
  return value;
}

function criteriaFrom(options: CriteriaOptions, looks: number): Criteria {
  const minSamples = Number(options.minSamples);
  if (!Number.isInteger(minSamples) || minSamples < 1) throw new FaiError(ErrorCodes.VALIDATION, `--min-samples: "${options.minSamples}" must be a whole number ≥ 1`, { field: '--min-samples' });
  return {
    ...DEFAULT_CRITERIA,
    alpha: fraction(options.alpha, '--alpha', 0.5),
    errorMargin: fraction(options.errorMargin, '--error-margin', 1),
    latencyMargin: fraction(options.latencyMargin, '--latency-margin', 0.5),
    minSamples,
    looks,
  };
}

function seconds(text: string, flag: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new FaiError(ErrorCodes.VALIDATION, `${flag}: ${(error as Error).message}`, { field: flag });
  }
}

function describe(analysis: Analysis): string {
  const e = analysis.evidence;
  return [
    `verdict: ${analysis.verdict.toUpperCase()}`,
    ...analysis.reasons.map((r) => `  - ${r}`),
    `stable ${analysis.stable.address}: ${analysis.stable.requests} requests, ${analysis.stable.errors} errors; canary ${analysis.canary.address}: ${analysis.canary.requests} requests, ${analysis.canary.errors} errors`,
    `error ratio canary − stable ${(e.errors.difference * 100).toFixed(2)} points [${(e.errors.differenceLow * 100).toFixed(2)}, ${(e.errors.differenceHigh * 100).toFixed(2)}], Fisher p ${e.errors.fisherP.toPrecision(3)}; latency AUC ${e.latency.auc.toFixed(3)} [${e.latency.low.toFixed(3)}, ${e.latency.high.toFixed(3)}]`,
    `window ${analysis.window.from} → ${analysis.window.to}; one-sided α per look ${e.perLookAlpha.toPrecision(3)} (α ${analysis.criteria.alpha} over ${analysis.criteria.looks} look(s))`,
  ].join('\n');
}

const EXIT_BY_VERDICT = { promote: ExitCodes.OK, continue: ExitCodes.WARNING, rollback: ExitCodes.CRITICAL } as const;

/** One analysis of canary against stable over the last --window. */
export async function canaryAnalyze(options: CriteriaOptions & { window: string; looks: string; json?: boolean }, write: Write = stdout): Promise<number> {
  const looks = Number(options.looks);
  if (!Number.isInteger(looks) || looks < 1) throw new FaiError(ErrorCodes.VALIDATION, `--looks: "${options.looks}" must be a whole number ≥ 1`, { field: '--looks' });
  const criteria = criteriaFrom(options, looks);
  const from = new Date(Date.now() - seconds(options.window, '--window') * 1000);
  const analysis = await analyzeCanary({ deployment: await loadDeployment(), criteria, from });
  write(options.json ? `${JSON.stringify(analysis, null, 2)}\n` : `${describe(analysis)}\n`);
  return EXIT_BY_VERDICT[analysis.verdict];
}

/** Steps the canary through the weights with an analysis between steps; promotes or rolls back. */
export async function canaryRun(options: CriteriaOptions & { steps: string; stepTimeout: string; maxLooks: string; release?: string; json?: boolean }, write: Write = stdout): Promise<number> {
  const steps = options.steps.split(',').map((s) => Number(s.trim()));
  if (steps.some((s) => !Number.isInteger(s)) || steps.some((s, i) => i > 0 && s <= steps[i - 1]!)) {
    throw new FaiError(ErrorCodes.VALIDATION, `--steps: "${options.steps}" must be rising whole percentages, e.g. 10,25,50`, { field: '--steps' });
  }
  const maxLooks = Number(options.maxLooks);
  if (!Number.isInteger(maxLooks) || maxLooks < steps.length) throw new FaiError(ErrorCodes.VALIDATION, `--max-looks: "${options.maxLooks}" must be a whole number ≥ the number of steps (${steps.length})`, { field: '--max-looks' });
  const criteria = criteriaFrom(options, maxLooks);
  let bar: ((done: number, note?: string) => void) | undefined;
  let barWeight = -1;
  const result = await runCanary({
    deployment: await loadDeployment(),
    steps,
    criteria,
    stepTimeoutMs: seconds(options.stepTimeout, '--step-timeout') * 1000,
    ...(options.release === undefined ? {} : { release: options.release }),
    log: options.json ? () => undefined : (line) => write(`${line}\n`),
    onWait: (weight, seen, needed) => {
      if (weight !== barWeight) {
        bar = progressBar(needed, `canary requests at ${weight} %`);
        barWeight = weight;
      }
      bar?.(Math.min(seen, needed));
    },
  });
  if (options.json) write(`${JSON.stringify(result, null, 2)}\n`);
  else write(`${result.outcome === 'promoted' ? 'PROMOTED' : 'ROLLED BACK'}: ${result.reason}\n`);
  return result.outcome === 'promoted' ? ExitCodes.OK : ExitCodes.CRITICAL;
}
