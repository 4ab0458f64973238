import { ODOR_FAMILIES, type OdorFamily, type OdorStrength, type PaletteMaterial } from './palette.ts';
import { words } from './words.ts';

/**
 * Odour profiles: what a material, a brief or a formula smells of, as a vector over one space —
 * a dimension per odour family and per descriptor word of the palette (IFRA_GLOSS and TGSC_PY
 * vocabularies, stemmed: "Leathery" and "leather" are one word). docs/learning.md gives the formulas.
 *
 * A material's profile: its family 1, its IFRA descriptors in their order 1, 0.7 and 0.5 (the
 * glossary lists the most applicable first), each TGSC tag 0.25 (unordered, often many); a word
 * named twice keeps its largest weight; then scaled to unit length, so a material with many tags
 * does not outweigh one with three. These weights are our convention.
 *
 * A line's impact — how much of the formula's smell one % of it makes — is its TGSC odour strength
 * (low 0.6, medium 1, high 1.5, very high 2; 1 where not sourced) times when it is smelled: a top
 * note fades within hours, a base note lasts the wear (top 0.7, heart 0.85, base 1, from the note
 * position, itself derived from TGSC substantivity). Our convention, adjustable.
 */
export type Position = 'top' | 'heart' | 'base';

/** Our convention for materials whose note position is not sourced (58 rows, mostly naturals). */
export const POSITION_BY_FAMILY: Readonly<Record<OdorFamily, Position>> = {
  citrus: 'top',
  green: 'top',
  aldehydic: 'top',
  'marine/ozonic': 'top',
  fruity: 'top',
  floral: 'heart',
  'aromatic/herbal': 'heart',
  spicy: 'heart',
  woody: 'base',
  'ambery/balsamic': 'base',
  musky: 'base',
  'gourmand/sweet': 'base',
  'leathery/animalic': 'base',
  'earthy/mossy': 'base',
};

export const STRENGTH_IMPACT: Readonly<Record<OdorStrength, number>> = { low: 0.6, medium: 1, high: 1.5, 'very high': 2 };
export const TENACITY_IMPACT: Readonly<Record<Position, number>> = { top: 0.7, heart: 0.85, base: 1 };
const IFRA_WEIGHTS = [1, 0.7, 0.5];
const TGSC_WEIGHT = 0.25;

export function positionOf(material: PaletteMaterial): Position {
  return material.notePosition ?? POSITION_BY_FAMILY[material.odorFamily];
}

export function impactOf(material: PaletteMaterial): number {
  return (material.odorStrength === null ? 1 : STRENGTH_IMPACT[material.odorStrength]) * TENACITY_IMPACT[positionOf(material)];
}

const familyDimension = (family: OdorFamily) => `family:${family}`;

/** Cosine similarity; 0 when either vector is all zero. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export class OdourSpace {
  /** The dimensions: the 14 families first (`family:citrus`), then every descriptor word. */
  readonly dimensions: readonly string[];
  /** Per palette material, its unit-length profile. */
  readonly profiles: readonly Float64Array[];
  /**
   * The profiles' non-zero dimensions and their values (a profile has ~10 of ~230), flat for hot loops:
   * material i's entries are [flatStart[i], flatStart[i + 1]) of flatDims and flatValues.
   */
  readonly flatStart: Int32Array;
  readonly flatDims: Int32Array;
  readonly flatValues: Float64Array;
  /** Per palette material, its impact. */
  readonly impacts: Float64Array;
  private readonly index: ReadonlyMap<string, number>;

  constructor(readonly palette: readonly PaletteMaterial[]) {
    const dimensions = ODOR_FAMILIES.map(familyDimension);
    const seen = new Set(dimensions);
    for (const material of palette) {
      for (const word of [...material.odorDescriptors, ...material.tgscDescriptors].flatMap(words)) {
        if (!seen.has(word)) {
          seen.add(word);
          dimensions.push(word);
        }
      }
    }
    this.dimensions = dimensions;
    this.index = new Map(dimensions.map((d, i) => [d, i]));
    this.profiles = palette.map((material) => {
      const weights = new Map<string, number>([[familyDimension(material.odorFamily), 1]]);
      const put = (word: string, weight: number) => weights.set(word, Math.max(weights.get(word) ?? 0, weight));
      material.odorDescriptors.forEach((descriptor, k) => {
        for (const word of words(descriptor)) put(word, IFRA_WEIGHTS[k] ?? IFRA_WEIGHTS.at(-1)!);
      });
      for (const tag of material.tgscDescriptors) for (const word of words(tag)) put(word, TGSC_WEIGHT);
      return unit(this.vector(weights));
    });
    const nonZero = this.profiles.map((profile) => [...profile.keys()].filter((d) => profile[d] !== 0));
    this.flatStart = new Int32Array(palette.length + 1);
    nonZero.forEach((dims, i) => (this.flatStart[i + 1] = this.flatStart[i]! + dims.length));
    this.flatDims = Int32Array.from(nonZero.flat());
    this.flatValues = Float64Array.from(nonZero.flatMap((dims, i) => dims.map((d) => this.profiles[i]![d]!)));
    this.impacts = Float64Array.from(palette, impactOf);
  }

  /** The dot product of a material's profile with a vector (over its non-zero dimensions). */
  dot(material: number, vector: ArrayLike<number>): number {
    const { flatDims, flatValues } = this;
    let sum = 0;
    for (let k = this.flatStart[material]!, end = this.flatStart[material + 1]!; k < end; k++) sum += flatValues[k]! * vector[flatDims[k]!]!;
    return sum;
  }

  get size(): number {
    return this.dimensions.length;
  }

  /** Whether a descriptor word (any spelling: "Leathery", "musks") is a dimension of this space. */
  has(word: string): boolean {
    return words(word).every((w) => this.index.has(w));
  }

  familyIndex(family: OdorFamily): number {
    return this.index.get(familyDimension(family))!;
  }

  /** A vector from weighted words or family dimensions; words the palette never uses are ignored. */
  vector(weights: Iterable<readonly [string, number]>): Float64Array {
    const out = new Float64Array(this.dimensions.length);
    for (const [key, weight] of weights) {
      const direct = this.index.get(key);
      if (direct !== undefined) {
        out[direct]! += weight;
        continue;
      }
      for (const word of words(key)) {
        const i = this.index.get(word);
        if (i !== undefined) out[i]! += weight;
      }
    }
    return out;
  }

  /** Adds `amount` × impact × the material's profile into `into` (the formula's profile is the sum over its lines). */
  accumulate(into: Float64Array, material: number, amount: number): void {
    const { flatDims, flatValues } = this;
    const scale = amount * this.impacts[material]!;
    for (let k = this.flatStart[material]!, end = this.flatStart[material + 1]!; k < end; k++) into[flatDims[k]!]! += scale * flatValues[k]!;
  }
}

function unit(vector: Float64Array): Float64Array {
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
  return vector;
}
