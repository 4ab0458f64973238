import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FaiError } from '../../src/errors/index.ts';
import { checkFormula, parseCheckRequest, parseFormulaCsv, RegulatoryCatalogue } from '../../src/regulation/index.ts';

const valid = { category: '4', dosagePct: 15, formula: [{ material: 'Linalool', concentrationPct: 10 }] };

function refusal(input: unknown): FaiError {
  try {
    parseCheckRequest(input);
  } catch (error) {
    assert.ok(error instanceof FaiError, String(error));
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(input)}`);
}

describe('parseCheckRequest (the edge)', () => {
  it('accepts a well-formed request, normalising the category', () => {
    const request = parseCheckRequest({ ...valid, category: 'cat 5a', formula: [{ cas: '78-70-6', concentrationPct: 0 }] });
    assert.equal(request.category, '5A');
    assert.deepEqual(request.formula, [{ material: '78-70-6', concentrationPct: 0 }]);
    assert.equal(parseCheckRequest({ ...valid, category: 4 }).category, '4');
  });

  it('names the field of each bad value', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ ...valid, formula: [{ material: 'Linalool', concentrationPct: -1 }] }, 'body.formula.0.concentrationPct', /negative/],
      [{ ...valid, formula: [{ material: 'Linalool', concentrationPct: Number.NaN }] }, 'body.formula.0.concentrationPct', /finite|number/],
      [{ ...valid, formula: [{ material: 'Linalool', concentrationPct: 100.5 }] }, 'body.formula.0.concentrationPct', /at most 100/],
      [{ ...valid, formula: [{ material: 'Linalool', concentrationPct: '10' }] }, 'body.formula.0.concentrationPct', /must be a number/],
      [{ ...valid, formula: [{ material: 'Linalool' }] }, 'body.formula.0.concentrationPct', /required/],
      [{ ...valid, formula: [{ concentrationPct: 1 }] }, 'body.formula.0.material', /names no material/],
      [{ ...valid, formula: [{ material: '  ', concentrationPct: 1 }] }, 'body.formula.0.material', /required/],
      [{ ...valid, formula: [] }, 'body.formula', /at least one/],
      [{ ...valid, dosagePct: 0 }, 'body.dosagePct', /above 0/],
      [{ ...valid, dosagePct: 101 }, 'body.dosagePct', /at most 100/],
      [{ ...valid, exposure: 'spray' }, 'body.exposure', /./],
      [{ ...valid, colour: 'red' }, 'body', /colour/],
      [{ formula: valid.formula, dosagePct: 15 }, 'body.category', /./],
      [[1, 2], 'body', /object/],
      [null, 'body', /./],
    ];
    for (const [input, field, message] of cases) {
      const error = refusal(input);
      assert.equal(error.code, 'FAI_ERR_VALIDATION', JSON.stringify(input));
      assert.equal(error.field, field, JSON.stringify(input));
      assert.match(error.message, message, JSON.stringify(input));
    }
  });

  it('refuses concentrations that add up to more than 100 %', () => {
    const error = refusal({ ...valid, formula: [{ material: 'Linalool', concentrationPct: 60 }, { material: 'Hedione', concentrationPct: 40.5 }] });
    assert.equal(error.field, 'body.formula');
    assert.match(error.message, /add up to 100\.5 %/);
    assert.doesNotThrow(() => parseCheckRequest({ ...valid, formula: [{ material: 'Linalool', concentrationPct: 60 }, { material: 'Hedione', concentrationPct: 40 }] }));
  });

  it('refuses a formula with more than 500 lines', () => {
    const formula = Array.from({ length: 501 }, (_, i) => ({ material: `m${i}`, concentrationPct: 0.1 }));
    assert.match(refusal({ ...valid, formula }).message, /at most 500/);
  });

  it('never crashes on arbitrary input: a request, or a FaiError naming a field; the check then answers or refuses cleanly', () => {
    const catalogue = RegulatoryCatalogue.load();
    const material = fc.oneof(fc.string(), fc.constantFrom('Linalool', 'Citronellal', '106-23-0', 'Lilial', 'Bergamot oil', '78-70-6'));
    const number = fc.oneof(fc.double(), fc.integer(), fc.constant(Number.NaN), fc.constant(Infinity), fc.string());
    const line = fc.record({ material, concentrationPct: number }, { requiredKeys: [] });
    const request = fc.record(
      {
        formula: fc.oneof(fc.array(line, { maxLength: 12 }), fc.anything()),
        category: fc.oneof(fc.constantFrom('4', '5A', '5', '12', '13', 'cat 9'), fc.anything()),
        dosagePct: number,
        exposure: fc.oneof(fc.constantFrom('leave_on', 'rinse_off'), fc.anything()),
        strict: fc.oneof(fc.boolean(), fc.anything()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(request, fc.anything()), (input) => {
        try {
          const parsed = parseCheckRequest(input);
          const result = checkFormula(catalogue, parsed);
          assert.ok(['pass', 'warning', 'unknown', 'fail'].includes(result.verdict));
          for (const m of result.materials) assert.ok(Number.isFinite(m.finishedPct) && m.finishedPct >= 0);
        } catch (error) {
          assert.ok(error instanceof FaiError, `not a FaiError: ${String(error)}`);
          assert.ok(error.field !== undefined && error.message.length > 0);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseFormulaCsv', () => {
  it('reads material and concentration columns, skipping comments and blank lines', () => {
    const rows = parseFormulaCsv('# a comment\nmaterial,concentration_pct\nLinalool,10\n\n78-70-6 , 2.5%\n');
    assert.deepEqual(rows, [
      { material: 'Linalool', concentrationPct: 10 },
      { material: '78-70-6', concentrationPct: 2.5 },
    ]);
  });

  it('names the row of a value that is not a number', () => {
    for (const cell of ['NaN', 'ten', '', '1,5', '12abc']) {
      try {
        parseFormulaCsv(`material,concentration_pct\nLinalool,"${cell}"\n`);
        assert.fail(`accepted ${cell}`);
      } catch (error) {
        assert.ok(error instanceof FaiError);
        assert.match(error.message, /row 2/);
      }
    }
  });

  it('refuses a header without the needed columns, and broken CSV', () => {
    assert.throws(() => parseFormulaCsv('name,amount\nLinalool,1\n'), /needs a "material" and a "concentration_pct" column/);
    assert.throws(() => parseFormulaCsv('material,concentration_pct\n"Linalool,1\n'), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_MALFORMED_BODY');
  });
});
