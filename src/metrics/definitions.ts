/**
 * What a metric definition is (the catalogue's entries, catalogue.ts): its type, its labels and the
 * values each may take, its buckets or its window. The registry, the label bounds and the readers of
 * an exposition work from these shapes; the catalogue holds the definitions themselves.
 */

/** Label values a label may take: a fixed set, or the first `maxDistinct` values seen. Anything else becomes `other`. */
export type LabelSpec = { readonly values: readonly string[] } | { readonly maxDistinct: number };

export type MetricGroup = 'llm' | 'rl' | 'regulation' | 'hub' | 'system';

interface BaseDef {
  readonly name: string;
  readonly help: string;
  readonly group: MetricGroup;
  readonly labels: Readonly<Record<string, LabelSpec>>;
  /** True for the 17 metrics of the operations guide; false for the conventional series we add beside them. */
  readonly guide: boolean;
}

export interface CounterDef extends BaseDef {
  readonly type: 'counter';
}

export interface GaugeDef extends BaseDef {
  readonly type: 'gauge';
}

export interface HistogramDef extends BaseDef {
  readonly type: 'histogram';
  /** Upper bucket edges in the unit the name states. */
  readonly buckets: readonly number[];
}

/** A gauge computed at scrape time from counters (named by catalogue key) over a sliding window. */
export interface WindowGaugeDef extends BaseDef {
  readonly type: 'gauge';
  readonly window:
    | { readonly kind: 'rate'; readonly seconds: number; readonly counter: string }
    | {
        readonly kind: 'ratio';
        readonly seconds: number;
        /** Catalogue key of a counter. */
        readonly numerator: string;
        /** Catalogue key of a counter whose labels are a subset of the numerator's; matched on those labels. */
        readonly denominator: string;
      };
}

export type MetricDef = CounterDef | GaugeDef | HistogramDef | WindowGaugeDef;

/** The value every out-of-set label value is mapped to. */
export const OTHER_LABEL_VALUE = 'other';
