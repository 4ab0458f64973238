import { ErrorCodes, FaiError } from '../errors/index.ts';
import { judge, type Analysis, type Criteria } from './analysis.ts';
import { readWindow } from './prometheus.ts';

/** What an analysis reads: the deployment's Prometheus and its stable and canary instances (configs/deployment.json). */
export interface CanaryTargets {
  readonly prometheus: string | null;
  readonly instances: { readonly stable: string; readonly canary: string } | null;
}

export interface AnalyzeOptions {
  deployment: CanaryTargets;
  criteria: Criteria;
  from: Date;
  to?: Date;
}

const required = <T>(value: T | null, what: string): T => {
  if (value === null) throw new FaiError(ErrorCodes.CONFIG, `deployment: no ${what} configured (configs/deployment.json)`, { field: `deployment.${what}` });
  return value;
};

/** One analysis of the deployment's canary against its stable, from its Prometheus. */
export async function analyzeCanary(options: AnalyzeOptions): Promise<Analysis> {
  const prometheus = required(options.deployment.prometheus, 'prometheus');
  const instances = required(options.deployment.instances, 'instances');
  const to = options.to ?? new Date();
  const { stable, canary, le } = await readWindow(prometheus, instances, options.from, to);
  return judge(stable, canary, le, { from: options.from.toISOString(), to: to.toISOString() }, options.criteria);
}
