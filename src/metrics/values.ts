import type { MetricDef } from './definitions.ts';

/** What a metric is given must be a finite number: NaN or Infinity would corrupt its series for good. */
export function assertFinite(def: MetricDef, value: number): void {
  if (!Number.isFinite(value)) throw new TypeError(`${def.name}: value ${value} is not a finite number`);
}
