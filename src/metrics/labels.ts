import { OTHER_LABEL_VALUE, type LabelSpec } from './definitions.ts';

/** The value of each of a series' labels, by name. */
export type LabelValues<N extends string> = { readonly [K in N]: string | number };

/**
 * Keeps one label's values inside a bounded set so no input can blow up
 * cardinality: a fixed set from the catalogue, or the first `maxDistinct`
 * values seen. Everything else is reported as `other`. O(1) per call.
 */
export class LabelBound {
  private readonly known: Set<string>;
  private readonly maxDistinct: number;

  constructor(spec: LabelSpec) {
    if ('values' in spec) {
      this.known = new Set(spec.values);
      this.maxDistinct = 0;
    } else {
      this.known = new Set();
      this.maxDistinct = spec.maxDistinct;
    }
  }

  bound(value: string | number): string {
    const text = typeof value === 'string' ? value : String(value);
    if (this.known.has(text)) return text;
    if (this.known.size < this.maxDistinct && text !== '') {
      this.known.add(text);
      return text;
    }
    return OTHER_LABEL_VALUE;
  }
}

/** Label names → bounds, in declaration order (the order prom-client exports them). */
export class LabelSetBound {
  readonly names: readonly string[];
  private readonly bounds: LabelBound[];

  constructor(labels: Readonly<Record<string, LabelSpec>>) {
    this.names = Object.keys(labels);
    this.bounds = Object.values(labels).map((spec) => new LabelBound(spec));
  }

  /** The bounded value of the label at `position` (declaration order) in `labels`. */
  boundAt(position: number, labels: Readonly<Record<string, string | number>>): string {
    const name = this.names[position]!;
    const value = labels[name];
    if (value === undefined) throw new TypeError(`metric label "${name}" is missing`);
    return this.bounds[position]!.bound(value);
  }

  /** Returns the bounded labels; a missing label is an error in the producer, not in the input. */
  bound(labels: Readonly<Record<string, string | number>>): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      const value = labels[name];
      if (value === undefined) throw new TypeError(`metric label "${name}" is missing`);
      out[name] = this.bounds[i]!.bound(value);
    }
    return out;
  }
}

/** A stable key for a bounded label set (values in declaration order). */
export function labelKey(names: readonly string[], labels: Readonly<Record<string, string>>): string {
  let key = '';
  for (const name of names) key += `${labels[name]}\u0000`;
  return key;
}

/**
 * Series of one metric, found by walking one Map per label with the bounded
 * values: no label object or key string is built for a series that exists.
 */
export class SeriesIndex<T> {
  private readonly bound: LabelSetBound;
  private readonly root = new Map<string, unknown>();
  private only: T | undefined;
  private readonly create: (labels: Record<string, string>, key: string) => T;
  readonly all: T[] = [];

  constructor(bound: LabelSetBound, create: (labels: Record<string, string>, key: string) => T) {
    this.bound = bound;
    this.create = create;
  }

  get(labels: Readonly<Record<string, string | number>>): T {
    const last = this.bound.names.length - 1;
    if (last < 0) return (this.only ??= this.add({}));
    let node = this.root;
    for (let i = 0; i < last; i++) {
      const value = this.bound.boundAt(i, labels);
      let next = node.get(value) as Map<string, unknown> | undefined;
      if (next === undefined) node.set(value, (next = new Map()));
      node = next;
    }
    const value = this.bound.boundAt(last, labels);
    let series = node.get(value) as T | undefined;
    if (series === undefined) node.set(value, (series = this.add(this.bound.bound(labels))));
    return series;
  }

  private add(labels: Record<string, string>): T {
    const series = this.create(labels, labelKey(this.bound.names, labels));
    this.all.push(series);
    return series;
  }
}
