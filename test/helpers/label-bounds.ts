import { catalogueEntries, createMetrics, type LabelSpec, type Metrics } from '../../src/metrics/index.ts';

/** Every value a label may take: its fixed set, or `maxDistinct` made-up values (the first seen are kept). */
function valuesOf(name: string, spec: LabelSpec): string[] {
  return 'values' in spec ? [...spec.values] : Array.from({ length: spec.maxDistinct }, (_, i) => `${name}_${i}`);
}

/**
 * A metrics registry with every series of the catalogue at its label bounds: each counter, gauge
 * and histogram moved once for every combination of its labels' values, through the handles the
 * service uses (so the sliding-window gauges see every series too). What a long-lived service
 * holds after a day of varied traffic: the worst case a scrape renders.
 */
export function metricsAtLabelBounds(options: { defaultMetrics?: boolean } = {}): { metrics: Metrics; series: number } {
  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics ?? true });
  let series = 0;
  for (const [key, def] of catalogueEntries()) {
    if ('window' in def) continue;
    let combos: Array<Record<string, string>> = [{}];
    for (const [name, spec] of Object.entries(def.labels)) combos = combos.flatMap((combo) => valuesOf(name, spec).map((value) => ({ ...combo, [name]: value })));
    const handle = metrics[key] as unknown as { inc?: (l: object, v?: number) => void; set?: (l: object, v: number) => void; observe?: (l: object, v: number) => void };
    for (const [i, labels] of combos.entries()) {
      if (def.type === 'counter') handle.inc!(labels, 1 + (i % 7));
      else if (def.type === 'histogram') handle.observe!(labels, def.buckets[i % def.buckets.length]!);
      else handle.set!(labels, i / 10);
      series++;
    }
  }
  return { metrics, series };
}
