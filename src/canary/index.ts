export { DEFAULT_CRITERIA, judge, type Analysis, type Criteria, type InstanceWindow, type Verdict } from './analysis.ts';
export { analyzeCanary, type AnalyzeOptions, type CanaryTargets } from './analyze.ts';
export { readWindow } from './prometheus.ts';
export { differenceInterval, fisherGreater, mannWhitneyBinned, wilson } from './stats.ts';
