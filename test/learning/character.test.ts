import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CHARACTER_TEXTS_FILE, decodeCheckpoint, FormulationEnv, greedy, heldOutTextBriefs, judge, PreparedBriefs, Random, SHIPPED_FILES, SHIPPED_MODELS_DIR, type Mlp } from '../../src/learning/index.ts';
import { localBrief } from '../../src/llm/index.ts';

/**
 * The shipped model formulates with the brief's character, read as a perfumer would (character.ts),
 * on our kept set — customer texts no training run reads — and the character follows the words:
 * a marine brief holds marine materials, a smoky leather one leather, a gourmand dessert vanilla and
 * caramel, "no florals" none.
 */
const env = new FormulationEnv();
const load = (file: string): Mlp => decodeCheckpoint(readFileSync(new URL(file, SHIPPED_MODELS_DIR)), env.world).net;
const teacher = load(SHIPPED_FILES['formulation-teacher']);
const served = (text: string) => {
  const context = env.prepare(localBrief(text));
  const { composition } = env.episode(context, (state) => greedy(teacher, state), new Random(1));
  return { context, composition, reading: env.character(context, composition), names: composition.lines.map((l) => env.palette[l.index]!) };
};

describe('the shipped model\'s character on our kept briefs (never trained on)', () => {
  it('gives at least 90 % of them the brief\'s character: on-character share, no filler above 10 %, every carried note smelled', () => {
    const kept = new PreparedBriefs(env, heldOutTextBriefs(CHARACTER_TEXTS_FILE));
    const judged = judge(env, kept, (state) => greedy(teacher, state));
    const failing = judged.perBrief.flatMap((b, i) => (b.hasCharacter ? [] : [JSON.parse(readFileSync(CHARACTER_TEXTS_FILE, 'utf8')).texts[i] as string]));
    assert.ok(judged.characterRate >= 0.9, `character rate ${judged.characterRate.toFixed(3)}; without character: ${failing.join(' | ')}`);
    assert.ok(judged.policySharePct >= 60, `the policy's picks are ${judged.policySharePct.toFixed(1)} % of the concentrate`);
    // Refusals honoured and each product dosed within its usual range (the check and the certificate at that dosage).
    for (const context of kept) {
      const { composition } = env.episode(context, (state) => greedy(teacher, state), new Random(1));
      for (const line of composition.lines) assert.ok(!context.forbidden.has(line.index), `${env.palette[line.index]!.name} is refused by ${context.brief.forbiddenIngredients.join(', ')}`);
      const { usualMinPct, usualMaxPct, source } = context.dosage;
      if (source === 'product' && usualMaxPct !== null) assert.ok(context.dosagePct <= usualMaxPct && context.dosagePct >= (usualMinPct ?? 0), `${context.product} at ${context.dosagePct} %`);
      assert.equal(composition.request.dosagePct, context.dosagePct);
      assert.ok(['pass', 'warning'].includes(composition.check.verdict), composition.check.verdict);
    }
  });

  it('follows the words of the issue\'s own examples', () => {
    const marine = served('clean aquatic marine scent for the beach');
    assert.ok(marine.names.some((m) => m.odorFamily === 'marine/ozonic' || m.odorDescriptors.some((d) => /Marine|Ozonic|Watery/.test(d))), marine.names.map((m) => m.name).join(', '));
    const leather = served('smoky leather and tobacco for a winter evening');
    assert.ok(leather.reading.notes.find((n) => n.note === 'leather')?.present, JSON.stringify(leather.reading.notes));
    assert.equal(leather.reading.notes.find((n) => n.note === 'tobacco')?.accord, 'tobacco accord');
    const dessert = served('달콤한 바닐라와 캐러멜, 겨울 디저트 같은 향');
    assert.ok(dessert.reading.notes.every((n) => n.present), JSON.stringify(dessert.reading.notes));
    const noFlorals = served('no florals at all: just dry cedar and vetiver');
    assert.ok(noFlorals.names.every((m) => m.odorFamily !== 'floral'), noFlorals.names.map((m) => m.name).join(', '));
    for (const example of [marine, leather, dessert, noFlorals]) assert.ok(example.reading.hasCharacter, `${example.context.brief.notesPreference.families.join(', ')}: ${example.reading.onCharacterPct} % on-character`);
    const lotion = served('a lavender body lotion, calm and soft');
    assert.deepEqual([lotion.context.dosagePct, lotion.composition.request.dosagePct], [1, 1]);
  });
});
