import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { FaiError, parseOrThrow } from '../../src/errors/index.ts';

describe('parseOrThrow', () => {
  const schema = z.object({ formula: z.array(z.object({ pct: z.number().min(0) })) });

  it('returns the parsed value', () => {
    assert.deepEqual(parseOrThrow(schema, { formula: [{ pct: 1 }] }, 'body'), { formula: [{ pct: 1 }] });
  });

  it('names the offending field with its path', () => {
    try {
      parseOrThrow(schema, { formula: [{ pct: 1 }, { pct: -2 }] }, 'body');
      assert.fail('should throw');
    } catch (error) {
      assert.ok(error instanceof FaiError);
      assert.equal(error.code, 'FAI_ERR_VALIDATION');
      assert.equal(error.field, 'body.formula.1.pct');
      assert.match(error.message, /^body\.formula\.1\.pct: /);
      assert.deepEqual(error.toJSON().field, 'body.formula.1.pct');
    }
  });
});
