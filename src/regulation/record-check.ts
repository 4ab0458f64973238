import type { CounterSeries, Metrics } from '../metrics/index.ts';
import type { CheckAnswer, CheckType } from './check.ts';
import type { ViolationType } from './check-run.ts';

const CHECK_TYPES: readonly CheckType[] = ['ingredient', 'concentration', 'combination'];

/** Where a checked formula came from: one the service proposed, or one a customer asked to check. */
export type CheckSource = 'served' | 'check';

/** The series every check moves (one per check type), found once per registry: a check moves them with no label lookup. */
interface CheckSeries {
  readonly checks: CounterSeries[];
  readonly passed: CounterSeries[];
  /** allergen_hits_total{allergen, severity="declare"} and {…, severity="prohibited"} by allergen id, found on an allergen's first hit. */
  readonly declared: Map<string, CounterSeries>;
  readonly prohibited: Map<string, CounterSeries>;
  /** ifra_violations_total by ingredient, then by violation type and source (VIOLATION_TYPES × SOURCES), each found on its first count. */
  readonly violations: Map<string, Array<CounterSeries | undefined>>;
}

const VIOLATION_TYPES: readonly ViolationType[] = ['prohibited', 'over_limit', 'combination', 'eu_maximum'];
const SOURCES: readonly CheckSource[] = ['served', 'check'];

const checkSeries = new WeakMap<Metrics, CheckSeries>();

function checkSeriesOf(metrics: Metrics): CheckSeries {
  let series = checkSeries.get(metrics);
  if (series === undefined) {
    series = {
      checks: CHECK_TYPES.map((type) => metrics.ifraChecksTotal.seriesOf({ check_type: type })),
      passed: CHECK_TYPES.map((type) => metrics.ifraChecksPassedTotal.seriesOf({ check_type: type })),
      declared: new Map(),
      prohibited: new Map(),
      violations: new Map(),
    };
    checkSeries.set(metrics, series);
  }
  return series;
}

/** allergen_hits_total{allergen=id, severity}, from `found` (made there on the allergen's first hit). */
function hitOf(metrics: Metrics, found: Map<string, CounterSeries>, id: string, severity: 'declare' | 'prohibited'): CounterSeries {
  let hit = found.get(id);
  if (hit === undefined) found.set(id, (hit = metrics.allergenHitsTotal.seriesOf({ allergen: id, severity })));
  return hit;
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
export function recordCheck(metrics: Metrics, result: CheckAnswer, source: CheckSource = 'check'): void {
  const series = checkSeriesOf(metrics);
  // Both counters feed ifra_compliance_rate's windows: one clock read for the check, not one per increment.
  const at = metrics.now();
  for (let i = 0; i < CHECK_TYPES.length; i++) {
    series.checks[i]!.inc(1, at);
    const verdict = result.checks[CHECK_TYPES[i]!];
    if (verdict === 'pass' || verdict === 'warning') series.passed[i]!.inc(1, at);
  }
  // What the check counted as it decided (check-run.ts): the answer's parts need not be built for it.
  const counts = result.counts;
  for (const { ingredient, type } of counts.violations) {
    let byIngredient = series.violations.get(ingredient);
    if (byIngredient === undefined) series.violations.set(ingredient, (byIngredient = []));
    const slot = VIOLATION_TYPES.indexOf(type) * SOURCES.length + SOURCES.indexOf(source);
    let violation = byIngredient[slot];
    if (violation === undefined) byIngredient[slot] = violation = metrics.ifraViolationsTotal.seriesOf({ ingredient, violation_type: type, source });
    violation.inc();
  }
  for (const id of counts.declared) hitOf(metrics, series.declared, id, 'declare').inc();
  for (const id of counts.prohibitedAllergens) hitOf(metrics, series.prohibited, id, 'prohibited').inc();
  if (result.strict) {
    for (let i = 0; i < result.unknownMaterials.length; i++) metrics.ifraViolationsTotal.inc({ ingredient: 'other', violation_type: 'unknown_material', source });
  }
}
