import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { RegulatoryCatalogue, ResolvedMaterial } from './catalogue.ts';

/**
 * Resolves every line of a formula against the data: null for a material none of the data knows.
 * A material named twice (by name and by CAS, say) is a mistake in the input: FAI_ERR_VALIDATION
 * naming the second line and the first.
 */
export function resolveFormula(catalogue: RegulatoryCatalogue, formula: ReadonlyArray<{ readonly material: string }>): Array<ResolvedMaterial | null> {
  const seen = new Map<string, number>();
  const resolved: Array<ResolvedMaterial | null> = [];
  for (let index = 0; index < formula.length; index++) {
    const material = formula[index]!.material;
    const found = catalogue.resolve(material);
    if (found !== null) {
      const first = seen.get(found.key);
      if (first !== undefined) {
        throw new FaiError(ErrorCodes.VALIDATION, `formula.${index}.material: "${material}" is ${found.name}, already listed at formula.${first}`, { field: `formula.${index}.material` });
      }
      seen.set(found.key, index);
    }
    resolved.push(found);
  }
  return resolved;
}
