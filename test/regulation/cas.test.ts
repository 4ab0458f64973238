import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isValidCas } from '../../src/regulation/index.ts';
import { casNumbersIn } from '../../src/regulation/cas.ts';

describe('CAS numbers', () => {
  it('accepts real CAS numbers and rejects a wrong check digit', () => {
    for (const cas of ['106-23-0', '78-70-6', '8007-75-8', '90028-68-5', '1222-05-5', '54464-57-2']) assert.ok(isValidCas(cas), cas);
    for (const cas of ['106-23-1', '78-70-5', '8007-75-0', '7-70-6', '106230', '', 'CAS 78-70-6']) assert.ok(!isValidCas(cas), cas);
  });

  it('finds exactly one valid check digit for any registry number', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9]\d{1,6}$/), fc.stringMatching(/^\d{2}$/), (head, middle) => {
        const valid = Array.from({ length: 10 }, (_, d) => `${head}-${middle}-${d}`).filter(isValidCas);
        assert.equal(valid.length, 1);
      }),
    );
  });

  it('keeps only valid CAS numbers from a messy data cell', () => {
    assert.deepEqual(casNumbersIn('109-86-4;(ether);110-49-6;(acetate)'), ['109-86-4', '110-49-6']);
    assert.deepEqual(casNumbersIn('Prohibition;of;Savin;oil:;8024-00-8;90046-04-1'), ['8024-00-8', '90046-04-1']);
    assert.deepEqual(casNumbersIn(''), []);
  });
});
