import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogue as metricCatalogue, createMetrics, readSamples } from '../../src/metrics/index.ts';
import { ComplianceChecker, RegulatoryCatalogue } from '../../src/regulation/index.ts';

const regulatory = RegulatoryCatalogue.load();

function setup() {
  let now = 1_800_000_000_000;
  const metrics = createMetrics({ defaultMetrics: false, now: () => now });
  const checker = new ComplianceChecker({ catalogue: regulatory, metrics });
  const samples = (key: keyof typeof metricCatalogue) => readSamples(metrics.registry, metricCatalogue[key]);
  return { metrics, checker, samples, advance: (ms: number) => (now += ms) };
}

describe('regulation metrics', () => {
  it('counts each violation with the Standard id as ingredient', async () => {
    const { checker, samples } = setup();
    checker.check({ category: '4', dosagePct: 100, formula: [{ material: 'Citronellal', concentrationPct: 1 }, { material: 'Diphenylamine', concentrationPct: 0.1 }] });
    const violations = await samples('ifraViolationsTotal');
    assert.deepEqual(
      violations.map((s) => [s.labels.ingredient, s.labels.violation_type, s.value]).sort(),
      [
        ['citronellal', 'over_limit', 1],
        ['diphenylamine', 'prohibited', 1],
      ],
    );
  });

  it('labels what the service proposed apart from what a customer asked to check, and counts a material both IFRA and EU prohibit once', async () => {
    const { checker, samples } = setup();
    // Lilial (p-BMHCA) in category 6: IFRA's cell reads "prohibited", and EU Annex II prohibits it.
    checker.check({ category: '6', dosagePct: 1, formula: [{ material: '80-54-6', concentrationPct: 0.1 }] }, 'served');
    checker.check({ category: '4', dosagePct: 100, formula: [{ material: 'Citronellal', concentrationPct: 1 }] });
    const violations = (await samples('ifraViolationsTotal')).map((s) => [s.labels.ingredient, s.labels.violation_type, s.labels.source, s.value]).sort();
    assert.equal(violations.length, 2, JSON.stringify(violations));
    assert.deepEqual(violations[0], ['citronellal', 'over_limit', 'check', 1]);
    assert.match(String(violations[1]![0]), /^p_tert_butyl/);
    assert.deepEqual(violations[1]!.slice(1), ['prohibited', 'served', 1], 'one violation, not one for IFRA and one for the EU');
    const hits = (await samples('allergenHitsTotal')).map((s) => [s.labels.severity, s.value]);
    assert.deepEqual(hits, [['prohibited', 1]], 'the EU prohibition is still an allergen hit');
  });

  it('counts a combination once, as a combination', async () => {
    const { checker, samples } = setup();
    checker.check({ category: '4', dosagePct: 100, formula: [{ material: '106-23-0', concentrationPct: 0.3 }, { material: '5949-05-3', concentrationPct: 0.3 }] });
    assert.deepEqual((await samples('ifraViolationsTotal')).map((s) => [s.labels.ingredient, s.labels.violation_type, s.value]), [['citronellal', 'combination', 1]]);
  });

  it('counts allergens to declare and prohibited ones', async () => {
    const { checker, samples } = setup();
    checker.check({ category: '4', dosagePct: 15, formula: [{ material: 'Linalool', concentrationPct: 5 }, { material: 'Lilial', concentrationPct: 1 }] });
    const hits = (await samples('allergenHitsTotal')).map((s) => [s.labels.allergen, s.labels.severity]).sort();
    assert.deepEqual(hits, [
      ['butylphenyl_methylpropional', 'prohibited'],
      ['linalool', 'declare'],
    ]);
  });

  it('counts unknown materials as violations only in strict mode', async () => {
    const { checker, samples } = setup();
    checker.check({ category: '4', dosagePct: 15, formula: [{ material: 'Unobtainium', concentrationPct: 5 }] });
    assert.deepEqual(await samples('ifraViolationsTotal'), []);
    checker.check({ category: '4', dosagePct: 15, strict: true, formula: [{ material: 'Unobtainium', concentrationPct: 5 }] });
    assert.deepEqual((await samples('ifraViolationsTotal')).map((s) => [s.labels.ingredient, s.labels.violation_type, s.value]), [['other', 'unknown_material', 1]]);
  });

  it('moves ifra_compliance_rate{check_type="combination"} and counts the sum rule when a combination fails (MHC + MOC)', async () => {
    const { checker, samples, advance } = setup();
    advance(3_600_000);
    // Category 10A (household: no EU Annex III maximum), dosage 100: MHC 0.3 (limit 0.33) + MOC 0.06 (limit 0.072) each within
    // their own limit (above 80 %: warnings), together over MHC's.
    const within = { category: '10A', dosagePct: 100, formula: [{ material: '111-12-6', concentrationPct: 0.2 }, { material: '111-80-8', concentrationPct: 0.05 }] };
    const over = { category: '10A', dosagePct: 100, formula: [{ material: '111-12-6', concentrationPct: 0.3 }, { material: '111-80-8', concentrationPct: 0.06 }] };
    checker.check(within);
    const rate = async () => Object.fromEntries((await samples('ifraComplianceRate')).map((s) => [s.labels.check_type, s.value]));
    assert.equal((await rate()).combination, 1);
    const result = checker.check(over);
    assert.deepEqual([result.checks.combination, result.checks.concentration], ['fail', 'warning']);
    assert.deepEqual(await rate(), { ingredient: 1, concentration: 1, combination: 0.5 });
    const violations = (await samples('ifraViolationsTotal')).map((s) => [s.labels.ingredient, s.labels.violation_type, s.value]);
    assert.deepEqual(violations, [['mhc_moc', 'combination', 1]]);
  });

  it('keeps ifra_compliance_rate as the share of checks passed per check type over the last hour', async () => {
    const { checker, samples, advance } = setup();
    advance(3_600_000);
    const ok = { category: '4', dosagePct: 100, formula: [{ material: 'Hedione', concentrationPct: 10 }] };
    const overLimit = { category: '4', dosagePct: 100, formula: [{ material: 'Citronellal', concentrationPct: 1 }] };
    for (let i = 0; i < 3; i++) checker.check(ok);
    checker.check(overLimit);
    const rate = async () => Object.fromEntries((await samples('ifraComplianceRate')).map((s) => [s.labels.check_type, s.value]));
    assert.deepEqual(await rate(), { ingredient: 1, concentration: 0.75, combination: 1 });
    advance(2 * 3_600_000);
    checker.check(ok);
    assert.deepEqual(await rate(), { ingredient: 1, concentration: 1, combination: 1 }, 'the failure has left the window');
  });
});
