export { thresholdsTable, type Measure, type ThresholdRow, type ThresholdUnit } from './thresholds.ts';
export {
  classify,
  ThresholdEvaluator,
  worstStatus,
  type RowVerdict,
  type ThresholdReport,
  type ThresholdStatus,
} from './evaluate-thresholds.ts';
export { histogramQuantile } from './histogram-quantile.ts';
export {
  runHealthChecks,
  type ComponentHealth,
  type ComponentStatus,
  type HealthCheck,
  type HealthReport,
  type ServiceStatus,
} from './health.ts';
export { RUNBOOKS, type RunbookName, type ThresholdAlert } from './thresholds.ts';
export * as observability from './observability/index.ts';
