import type { CounterSeries, Metrics } from '../metrics/index.ts';
import type { CheckType, ComplianceResult } from './check.ts';

const CHECK_TYPES: readonly CheckType[] = ['ingredient', 'concentration', 'combination'];

/** Where a checked formula came from: one the service proposed, or one a customer asked to check. */
export type CheckSource = 'served' | 'check';

/** The series every check moves (one per check type), found once per registry: a check moves them with no label lookup. */
interface CheckSeries {
  readonly checks: CounterSeries[];
  readonly passed: CounterSeries[];
  /** allergen_hits_total{allergen, severity="declare"} by allergen id, found on an allergen's first hit. */
  readonly declared: Map<string, CounterSeries>;
}

const checkSeries = new WeakMap<Metrics, CheckSeries>();

function checkSeriesOf(metrics: Metrics): CheckSeries {
  let series = checkSeries.get(metrics);
  if (series === undefined) {
    series = {
      checks: CHECK_TYPES.map((type) => metrics.ifraChecksTotal.seriesOf({ check_type: type })),
      passed: CHECK_TYPES.map((type) => metrics.ifraChecksPassedTotal.seriesOf({ check_type: type })),
      declared: new Map(),
    };
    checkSeries.set(metrics, series);
  }
  return series;
}

/**
 * Moves the regulation metrics for one finished check:
 * - `ifra_checks_total{check_type}` and `ifra_checks_passed_total{check_type}`
 *   (a pass or a warning counts as passed), from which `ifra_compliance_rate` is
 *   the share over the last hour;
 * - `ifra_violations_total{ingredient,violation_type,source}` for every failing
 *   material, substance a natural carries, or group, and every EU Annex III maximum exceeded
 *   (`eu_maximum`; `ingredient` is the id of the Standard or allergen; an
 *   unknown material counts as `other`/`unknown_material`, in strict mode only).
 *   `source` tells a served formula (what IFRAViolation alerts on) from a
 *   customer's own check. A line prohibited both by IFRA and by EU Annex II
 *   counts once, as the IFRA prohibition;
 * - `allergen_hits_total{allergen,severity}` for every allergen to declare or prohibited.
 */
export function recordCheck(metrics: Metrics, result: ComplianceResult, source: CheckSource = 'check'): void {
  const series = checkSeriesOf(metrics);
  for (let i = 0; i < CHECK_TYPES.length; i++) {
    series.checks[i]!.inc();
    const verdict = result.checks[CHECK_TYPES[i]!];
    if (verdict === 'pass' || verdict === 'warning') series.passed[i]!.inc();
  }
  const prohibitedLines = new Set<number>();
  for (const material of result.materials) {
    for (const standard of material.standards) {
      if (standard.verdict !== 'fail' || standard.combination !== null) continue;
      const prohibited = standard.limit === 'prohibited';
      if (prohibited) prohibitedLines.add(material.line);
      metrics.ifraViolationsTotal.inc({ ingredient: standard.standardId, violation_type: prohibited ? 'prohibited' : 'over_limit', source });
    }
  }
  // A substance one natural line carries over its limit (with several lines it is a combination, below).
  for (const constituent of result.constituents) {
    if (constituent.verdict !== 'fail' || constituent.sources.length > 1) continue;
    const prohibited = constituent.limitPct === 0;
    if (prohibited) prohibitedLines.add(constituent.sources[0]!.line);
    metrics.ifraViolationsTotal.inc({ ingredient: constituent.standardId, violation_type: prohibited ? 'prohibited' : 'over_limit', source });
  }
  for (const combination of result.combinations) {
    if (combination.verdict === 'fail') metrics.ifraViolationsTotal.inc({ ingredient: combination.id, violation_type: 'combination', source });
  }
  for (const allergen of result.allergens.found) {
    if (allergen.euMaximum?.verdict === 'fail') metrics.ifraViolationsTotal.inc({ ingredient: allergen.id, violation_type: 'eu_maximum', source });
    if (allergen.status === 'declare') {
      let declared = series.declared.get(allergen.id);
      if (declared === undefined) series.declared.set(allergen.id, (declared = metrics.allergenHitsTotal.seriesOf({ allergen: allergen.id, severity: 'declare' })));
      declared.inc();
    }
    else if (allergen.status === 'prohibited') {
      metrics.allergenHitsTotal.inc({ allergen: allergen.id, severity: 'prohibited' });
      // The same material already counted as an IFRA prohibition is one violation, not two.
      if (!allergen.lines.every((line) => prohibitedLines.has(line))) metrics.ifraViolationsTotal.inc({ ingredient: allergen.id, violation_type: 'prohibited', source });
    }
  }
  if (result.strict) {
    for (let i = 0; i < result.unknownMaterials.length; i++) metrics.ifraViolationsTotal.inc({ ingredient: 'other', violation_type: 'unknown_material', source });
  }
}
