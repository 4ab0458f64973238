export { catalogue, catalogueEntries, findDefinitionByName, REMEDIATION_OUTCOMES, type Catalogue, type CatalogueKey } from './catalogue.ts';
export { OTHER_LABEL_VALUE, type CounterDef, type GaugeDef, type HistogramDef, type LabelSpec, type MetricDef, type MetricGroup, type WindowGaugeDef } from './definitions.ts';
export { LabelBound } from './labels.ts';
export {
  createMetrics,
  PROM_CLIENT_RENDER,
  CounterHandle,
  type CounterSeries,
  GaugeHandle,
  WindowGaugeHandle,
  type CreateMetricsOptions,
  type Metrics,
} from './registry.ts';
export { HistogramHandle, type HistogramObserver } from './histogram.ts';
export type { LabelValues } from './labels.ts';
export { readHistogram, readSamples, type HistogramSeries, type Labels, type Sample } from './read.ts';
export { SlidingWindow } from './sliding-window.ts';
