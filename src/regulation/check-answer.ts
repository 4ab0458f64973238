import { declared } from './check-results.ts';
import type { CheckCounts, Parts } from './check-run.ts';
import type { CombinationResult, ComplianceResult, ConstituentResult, MaterialResult, SpecificationResult } from './check-types.ts';

/** What a check decided (the answer's fields that are there at once), and how to build the rest of it. */
export type CheckOutcome = Pick<ComplianceResult, 'verdict' | 'strict' | 'category' | 'dosagePct' | 'exposure' | 'checks' | 'unknownMaterials' | 'gaps'> & {
  readonly counts: CheckCounts;
  /** The second run of the rules (check-run.ts): the answer's parts, built on their first read. */
  readonly describe: () => Parts;
};

/**
 * A check's answer. The verdicts, the check types and the gaps are there at once; the rest (each
 * line's verdict per Standard, the constituents naturals carry, the allergens found, the sum rules,
 * the prohibitions and specifications) is built, all together, when first read — getters, and
 * `toJSON` for the serialised answer, which holds the same fields as ComplianceResult in its order.
 * A spread (`{ ...answer }`) or a structured clone copies only what is there at once: `toJSON()`
 * gives the whole answer as a plain object.
 */
export class CheckAnswer implements ComplianceResult {
  readonly verdict: CheckOutcome['verdict'];
  readonly strict: CheckOutcome['strict'];
  readonly category: CheckOutcome['category'];
  readonly dosagePct: CheckOutcome['dosagePct'];
  readonly exposure: CheckOutcome['exposure'];
  readonly checks: CheckOutcome['checks'];
  readonly unknownMaterials: CheckOutcome['unknownMaterials'];
  readonly gaps: CheckOutcome['gaps'];
  readonly #outcome: CheckOutcome;
  #parts: Parts | undefined;
  #allergens: ComplianceResult['allergens'] | undefined;

  constructor(outcome: CheckOutcome) {
    this.verdict = outcome.verdict;
    this.strict = outcome.strict;
    this.category = outcome.category;
    this.dosagePct = outcome.dosagePct;
    this.exposure = outcome.exposure;
    this.checks = outcome.checks;
    this.unknownMaterials = outcome.unknownMaterials;
    this.gaps = outcome.gaps;
    this.#outcome = outcome;
  }

  /** What the regulation metrics count of this check (record-check.ts). */
  get counts(): CheckCounts {
    return this.#outcome.counts;
  }

  #built(): Parts {
    return (this.#parts ??= this.#outcome.describe());
  }

  /** The lines, with their verdicts, their verdicts per Standard and their notes. */
  get materials(): readonly MaterialResult[] {
    return this.#built().materials;
  }

  get prohibited(): ComplianceResult['prohibited'] {
    return this.#built().prohibited;
  }

  get combinations(): readonly CombinationResult[] {
    return this.#built().combinations;
  }

  get constituents(): readonly ConstituentResult[] {
    return this.#built().constituents;
  }

  get specifications(): readonly SpecificationResult[] {
    return this.#built().specifications;
  }

  get allergens(): ComplianceResult['allergens'] {
    if (this.#allergens === undefined) {
      const { found, notAssessed } = this.#built();
      this.#allergens = { declare: declared(found), found, notAssessed };
    }
    return this.#allergens;
  }

  toJSON(): ComplianceResult {
    const { verdict, strict, category, dosagePct, exposure, checks, materials, prohibited, combinations, constituents, specifications, allergens, unknownMaterials, gaps } = this;
    return { verdict, strict, category, dosagePct, exposure, checks, materials, prohibited, combinations, constituents, specifications, allergens, unknownMaterials, gaps };
  }
}
