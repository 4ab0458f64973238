import { requirePart, type Deployment } from '../runbooks/deployment.ts';
import { judge, type Analysis, type Criteria } from './analysis.ts';
import { readWindow } from './prometheus.ts';

export interface AnalyzeOptions {
  deployment: Deployment;
  criteria: Criteria;
  from: Date;
  to?: Date;
}

/** One analysis of the deployment's canary against its stable, from its Prometheus. */
export async function analyzeCanary(options: AnalyzeOptions): Promise<Analysis> {
  const prometheus = requirePart(options.deployment.prometheus, 'prometheus');
  const instances = requirePart(options.deployment.instances, 'instances');
  const to = options.to ?? new Date();
  const { stable, canary, le } = await readWindow(prometheus, instances, options.from, to);
  return judge(stable, canary, le, { from: options.from.toISOString(), to: to.toISOString() }, options.criteria);
}
