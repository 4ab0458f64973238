import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LabelBound, OTHER_LABEL_VALUE } from '../../src/metrics/index.ts';

describe('LabelBound', () => {
  it('keeps any input inside the fixed set plus `other`', () => {
    const known = ['qwen', 'mistral', 'llama'];
    const bound = new LabelBound({ values: known });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom(...known), fc.integer()), (value) => {
        const out = bound.bound(value);
        assert.ok(known.includes(out) || out === OTHER_LABEL_VALUE);
        if (known.includes(String(value))) assert.equal(out, String(value));
      }),
    );
  });

  it('accepts at most maxDistinct values, then answers `other`, however many arrive', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.string(), { maxLength: 200 }), (max, inputs) => {
        const bound = new LabelBound({ maxDistinct: max });
        const seen = new Set(inputs.map((v) => bound.bound(v)));
        seen.delete(OTHER_LABEL_VALUE);
        assert.ok(seen.size <= max);
      }),
    );
  });

  it('never admits an empty label value', () => {
    assert.equal(new LabelBound({ maxDistinct: 5 }).bound(''), OTHER_LABEL_VALUE);
  });
});
