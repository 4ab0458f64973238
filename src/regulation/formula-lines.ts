import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { RegulatoryCatalogue, ResolvedMaterial } from './catalogue.ts';

/** Whether two resolutions are one substance: the same entry, the same CAS, or a group (a Standard's, an allergen's) that lists the other's CAS. */
function sameSubstance(a: ResolvedMaterial, b: ResolvedMaterial): boolean {
  if (a.key === b.key || (a.cas !== null && a.cas === b.cas)) return true;
  const lists = (group: ResolvedMaterial, cas: string | null) =>
    cas !== null && group.cas === null && (group.standards.some((s) => s.cas.includes(cas)) || group.allergens.some((x) => x.cas.includes(cas)));
  return lists(a, b.cas) || lists(b, a.cas);
}

/**
 * A line that gives `material` and `cas`: the CAS wins (it is the more precise), unless the name
 * names another substance the data knows — then the line is refused, naming both.
 */
function resolveBoth(catalogue: RegulatoryCatalogue, material: string, cas: string, index: number): ResolvedMaterial | null {
  const byCas = catalogue.resolve(cas);
  const byName = catalogue.resolve(material);
  if (byCas === null) {
    if (byName === null) return null;
    throw new FaiError(ErrorCodes.VALIDATION, `formula.${index}.cas: "${cas}" is not in the sourced data, but material "${material}" is ${byName.name}${byName.cas === null ? '' : ` (${byName.cas})`}: give the CAS of ${byName.name}, or only one of the two`, { field: `formula.${index}.cas` });
  }
  if (byName !== null && !sameSubstance(byName, byCas)) {
    throw new FaiError(ErrorCodes.VALIDATION, `formula.${index}: material "${material}" is ${byName.name}${byName.cas === null ? '' : ` (${byName.cas})`} but cas "${cas}" is ${byCas.name}: a line names one substance`, { field: `formula.${index}.cas` });
  }
  return byCas;
}

/**
 * Resolves every line of a formula against the data: null for a material none of the data knows.
 * A material named twice (by name and by CAS, say) is a mistake in the input: FAI_ERR_VALIDATION
 * naming the second line and the first.
 */
export function resolveFormula(catalogue: RegulatoryCatalogue, formula: ReadonlyArray<{ readonly material: string; readonly cas?: string | undefined }>): Array<ResolvedMaterial | null> {
  // By key ordinal: the line that named the material, or -1. Kept per catalogue and cleared before returning.
  let seen = seenScratch.get(catalogue);
  if (seen === undefined || seen.length < catalogue.keyCount) seenScratch.set(catalogue, (seen = new Int32Array(catalogue.keyCount).fill(-1)));
  const resolved: Array<ResolvedMaterial | null> = [];
  try {
    for (let index = 0; index < formula.length; index++) {
      const line = formula[index]!;
      const material = line.material;
      const found = line.cas === undefined ? catalogue.resolve(material) : resolveBoth(catalogue, material, line.cas, index);
      if (found !== null) {
        const first = seen[found.keyOrdinal]!;
        if (first !== -1) {
          throw new FaiError(ErrorCodes.VALIDATION, `formula.${index}.material: "${material}" is ${found.name}, already listed at formula.${first}`, { field: `formula.${index}.material` });
        }
        seen[found.keyOrdinal] = index;
      }
      resolved.push(found);
    }
  } finally {
    for (const found of resolved) if (found !== null) seen[found.keyOrdinal] = -1;
  }
  return resolved;
}

const seenScratch = new WeakMap<RegulatoryCatalogue, Int32Array>();
