import type { Metrics } from '../metrics/index.ts';
import type { CheckType, ComplianceResult } from './check.ts';

const CHECK_TYPES: readonly CheckType[] = ['ingredient', 'concentration', 'combination'];

/**
 * Moves the regulation metrics for one finished check:
 * - `ifra_checks_total{check_type}` and `ifra_checks_passed_total{check_type}`
 *   (a pass or a warning counts as passed), from which `ifra_compliance_rate` is
 *   the share over the last hour;
 * - `ifra_violations_total{ingredient,violation_type}` for every failing
 *   material or group (`ingredient` is the id of the Standard or allergen; an
 *   unknown material counts as `other`/`unknown_material`, in strict mode only);
 * - `allergen_hits_total{allergen,severity}` for every allergen to declare or prohibited.
 */
export function recordCheck(metrics: Metrics, result: ComplianceResult): void {
  for (const type of CHECK_TYPES) {
    metrics.ifraChecksTotal.inc({ check_type: type });
    const verdict = result.checks[type];
    if (verdict === 'pass' || verdict === 'warning') metrics.ifraChecksPassedTotal.inc({ check_type: type });
  }
  for (const material of result.materials) {
    for (const standard of material.standards) {
      if (standard.verdict !== 'fail' || standard.combination !== null) continue;
      metrics.ifraViolationsTotal.inc({ ingredient: standard.standardId, violation_type: standard.limit === 'prohibited' ? 'prohibited' : 'over_limit' });
    }
  }
  for (const combination of result.combinations) {
    if (combination.verdict === 'fail') metrics.ifraViolationsTotal.inc({ ingredient: combination.id, violation_type: 'combination' });
  }
  for (const allergen of result.allergens.found) {
    if (allergen.status === 'declare') metrics.allergenHitsTotal.inc({ allergen: allergen.id, severity: 'declare' });
    else if (allergen.status === 'prohibited') {
      metrics.allergenHitsTotal.inc({ allergen: allergen.id, severity: 'prohibited' });
      metrics.ifraViolationsTotal.inc({ ingredient: allergen.id, violation_type: 'prohibited' });
    }
  }
  if (result.strict) {
    for (let i = 0; i < result.unknownMaterials.length; i++) metrics.ifraViolationsTotal.inc({ ingredient: 'other', violation_type: 'unknown_material' });
  }
}
