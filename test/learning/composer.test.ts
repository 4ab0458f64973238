import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawBriefs, FormulationEnv, heldOutTextBriefs, MIN_MATERIALS, OFF_CHARACTER_LINE_PCT, Random, RESOLUTION_PCT, UNSOURCED_MAX_USE_PCT, type Composition } from '../../src/learning/index.ts';
import { localBrief, type CreativeBrief } from '../../src/llm/index.ts';
import { ComplianceChecker, RegulatoryCatalogue } from '../../src/regulation/index.ts';

/**
 * What a perfumer would accept, checked without the reward: on briefs from a seed neither training
 * nor the held-out set uses, and on the customer texts, whatever the policy picked (random picks,
 * or none at all).
 */
const env = new FormulationEnv();
const checker = new ComplianceChecker({ catalogue: RegulatoryCatalogue.load() });
const briefs: CreativeBrief[] = [...drawBriefs(99_991, 150), ...heldOutTextBriefs()];

/** Independent of the composer's own matching: whole words of the name and IFRA descriptors, and the family's parts. */
function refusedBy(index: number, term: string): boolean {
  const m = env.palette[index]!;
  const t = term.toLowerCase();
  const words = `${m.name} ${m.odorDescriptors.join(' ')}`.toLowerCase().split(/[^a-z]+/);
  return m.odorFamily.split('/').some((part) => part.startsWith(t)) || words.some((w) => w === t || w === `${t}y` || w === `${t}s`);
}

const compose = (brief: CreativeBrief, picks: ReadonlyMap<number, number>) => env.compose(env.prepare(brief), picks);
const allowed = (brief: CreativeBrief, i: number) => env.prepare(brief).allowed[i] === 1;

/** Asserts the composition acceptable; answers how many IFRA-restricted substances its naturals carry (the check counted them). */
function assertAcceptable(brief: CreativeBrief, composition: Composition, what: string): number {
  const lines = composition.lines;
  const total = lines.reduce((sum, l) => sum + l.pct, 0);
  assert.ok(Math.abs(total - 100) < 1e-6, `${what}: adds up to ${total}`);
  for (const line of lines) {
    const m = env.palette[line.index]!;
    assert.ok(Math.abs(line.pct / RESOLUTION_PCT - Math.round(line.pct / RESOLUTION_PCT)) < 1e-6 && line.pct >= RESOLUTION_PCT, `${what}: ${m.name} at ${line.pct} is not a multiple of ${RESOLUTION_PCT}`);
    assert.ok(line.pct <= (m.maxUsePct ?? UNSOURCED_MAX_USE_PCT) + 1e-9, `${what}: ${m.name} at ${line.pct} % over its maximum use level ${m.maxUsePct ?? UNSOURCED_MAX_USE_PCT}`);
    for (const term of brief.forbiddenIngredients) assert.ok(!refusedBy(line.index, term), `${what}: ${m.name} is refused by "${term}"`);
  }
  assert.ok(lines.length >= 6, `${what}: ${lines.length} materials`);
  const positions = new Set(lines.map((l) => env.composer.info[l.index]!.position));
  assert.deepEqual([...positions].sort(), ['base', 'heart', 'top'], `${what}: positions ${[...positions]}`);
  const families = new Set(lines.map((l) => env.palette[l.index]!.odorFamily));
  for (const family of brief.notesPreference.families) {
    const available = env.palette.some((_, i) => allowed(brief, i) && env.palette[i]!.odorFamily === family);
    if (available) assert.ok(families.has(family), `${what}: family ${family} missing`);
  }
  const context = env.prepare(brief);
  for (const note of [...brief.notesPreference.top, ...brief.notesPreference.heart, ...brief.notesPreference.base]) {
    const carried = lines.some((l) => env.composer.carries(l.index, note));
    const accord = context.notes.find((n) => n.note === note.trim().toLowerCase())?.accord;
    const byAccord = accord != null && accord.members.every((m) => lines.some((l) => l.index === m.index));
    assert.ok(carried || byAccord || composition.unavailableNotes.includes(note.trim().toLowerCase()), `${what}: note "${note}" neither carried, nor by its accord, nor reported unavailable`);
  }
  // A repair never adds a generic filler: whatever the composer added is on the brief's character, or a minor line.
  for (const line of lines) {
    if (line.added && context.onCharacter[line.index] !== 1) assert.ok(line.pct <= OFF_CHARACTER_LINE_PCT / 2, `${what}: the composer added ${env.palette[line.index]!.name} at ${line.pct} %, off the brief's character`);
    // No repair is poured into one line: each holds at most 10 % of the concentrate.
    if (line.added) assert.ok(line.pct <= 10 + 1e-9, `${what}: the composer added ${env.palette[line.index]!.name} at ${line.pct} %`);
  }
  // The service's checker, from the request as a client would send it.
  const checked = checker.check(composition.request);
  assert.ok(checked.verdict === 'pass' || checked.verdict === 'warning', `${what}: compliance ${checked.verdict}`);
  return checked.constituents.length;
}

describe('the composer: formulas a perfumer would accept, on briefs no training run sees', () => {
  it('holds for random picks and for no picks at all', () => {
    const random = new Random(5);
    let k = 0;
    let withNaturals = 0;
    for (const brief of briefs) {
      const picks = new Map<number, number>();
      for (let i = 0; i < 16; i++) {
        const a = random.int(env.actions);
        picks.set(a, Math.min(4, (picks.get(a) ?? 0) + 1));
      }
      if (assertAcceptable(brief, compose(brief, picks), `brief ${k} (random picks)`) > 0) withNaturals++;
      assertAcceptable(brief, compose(brief, new Map()), `brief ${k} (no picks)`);
      k++;
    }
    // The path that matters here: formulas whose naturals carry restricted substances, counted and still compliant.
    assert.ok(withNaturals >= briefs.length / 4, `${withNaturals} of ${briefs.length} formulas hold a natural carrying a restricted substance`);
  });

  it('removes every musky material for "no musk", and every sweet one for "nothing sweet"', () => {
    const noMusk = localBrief('a fresh green tea scent for summer, no musk');
    assert.ok(noMusk.forbiddenIngredients.includes('musk'));
    const musky = env.palette.map((m, i) => [m, i] as const).filter(([m]) => m.odorFamily === 'musky' || m.odorDescriptors.includes('Musk like'));
    assert.ok(musky.length >= 11);
    for (const [, i] of musky) assert.equal(allowed(noMusk, i), false);
    const noSweet = localBrief('nothing sweet please, something clean and airy for the office');
    assert.ok(noSweet.forbiddenIngredients.includes('sweet'), JSON.stringify(noSweet.forbiddenIngredients));
    const lines = compose(noSweet, new Map()).lines.map((l) => env.palette[l.index]!);
    assert.ok(lines.every((m) => m.odorFamily !== 'gourmand/sweet' && !m.odorDescriptors.includes('Sweet')), lines.map((m) => m.name).join(', '));
  });

  it('honours named notes by descriptor, carries the ones no material carries by their accord, and says which neither can', () => {
    const neroli = compose(localBrief('orange blossom and neroli for a spring wedding'), new Map());
    assert.ok(neroli.lines.some((l) => /neroli/i.test(`${env.palette[l.index]!.name} ${env.palette[l.index]!.odorDescriptors.join(' ')}`)));
    assert.deepEqual(neroli.unavailableNotes, []);
    // "green tea": no material's name or descriptors carry it; the green tea accord (data/accords.json) does.
    const teaBrief = env.prepare(localBrief('a fresh green tea scent for summer, no musk'));
    const tea = env.compose(teaBrief, new Map());
    assert.deepEqual(tea.unavailableNotes, []);
    const accord = teaBrief.notes.find((n) => n.note === 'green tea')!.accord!;
    assert.equal(accord.name, 'green tea accord');
    for (const m of accord.members) assert.ok(tea.lines.some((l) => l.index === m.index), `${env.palette[m.index]!.name} of the accord is in the formula`);
    const oud = compose(localBrief('deep oud and leather for evenings, masculine'), new Map());
    assert.deepEqual(oud.unavailableNotes, []);
    assert.ok(oud.lines.some((l) => env.composer.carries(l.index, 'leather')));
    // Ylang ylang oil, the only carrier of "ylang ylang", carries benzyl cyanide (IFRA's Annex), whose Standard's limits are not
    // sourced: not allowed, so the note is reported unavailable rather than served unknown.
    const ylangBrief = localBrief('rose and ylang ylang, a romantic feminine perfume');
    assert.ok(ylangBrief.notesPreference.heart.includes('ylang ylang') || ylangBrief.notesPreference.top.includes('ylang ylang') || ylangBrief.notesPreference.base.includes('ylang ylang'), JSON.stringify(ylangBrief.notesPreference));
    const ylangIndex = env.palette.findIndex((m) => m.name === 'Ylang ylang oil');
    assert.equal(allowed(ylangBrief, ylangIndex), false);
    const ylang = compose(ylangBrief, new Map([[ylangIndex, 4]]));
    assert.ok(!ylang.lines.some((l) => l.index === ylangIndex) && ylang.dropped.includes(ylangIndex));
    assert.ok(ylang.unavailableNotes.includes('ylang ylang'), JSON.stringify(ylang.unavailableNotes));
    // A note neither a material nor an accord carries stays listed as unavailable.
    const brief = { ...localBrief('woody'), notesPreference: { families: ['woody' as const], top: [], heart: ['durian'], base: [] } };
    assert.deepEqual(compose(brief, new Map()).unavailableNotes, ['durian']);
  });

  it('adds only what is missing, as repairs: a complete, on-character pick is left alone', () => {
    const context = env.prepare(localBrief('a warm woody amber with sandalwood and vanilla for winter'));
    const picks = new Map<number, number>();
    const onCharacter = env.palette.map((_, i) => i).filter((i) => context.allowed[i] === 1 && context.onCharacter[i] === 1);
    for (const position of ['top', 'heart', 'base'] as const) for (const i of onCharacter.filter((j) => env.composer.info[j]!.position === position).slice(0, 3)) picks.set(i, 2);
    for (const note of context.notes) picks.set(note.carriers[0]!, 2);
    assert.ok(picks.size >= MIN_MATERIALS);
    const composition = env.compose(context, picks);
    assert.deepEqual(composition.lines.filter((l) => l.added).map((l) => env.palette[l.index]!.name), []);
  });

  it('keeps trace materials at trace levels and never uses what the category does not allow', () => {
    // Isobutyl quinoline: maximum 0.1 % of the concentrate (usage.csv).
    const quinoline = env.palette.findIndex((m) => m.name === 'Isobutyl Quinoline');
    const brief = localBrief('smoky leather, masculine');
    const line = compose(brief, new Map([[quinoline, 4]])).lines.find((l) => l.index === quinoline);
    if (line !== undefined) assert.ok(line.pct <= 0.1);
    // Lilial: EU Annex II, never allowed.
    const lilial = env.palette.findIndex((m) => m.name === 'Lilial');
    assert.equal(allowed(brief, lilial), false);
    assert.ok(!compose(brief, new Map([[lilial, 4]])).lines.some((l) => l.index === lilial));
  });

  it('repairs the phototoxic-oil sum: bergamot and lemon picked to the full stay within 100 % of their limits together', () => {
    const brief = localBrief('fresh citrus with bergamot and lemon for the office');
    const bergamot = env.palette.findIndex((m) => m.name === 'Bergamot oil');
    const lemon = env.palette.findIndex((m) => m.name === 'Lemon oil');
    const composition = compose(brief, new Map([[bergamot, 4], [lemon, 4]]));
    const sum = composition.check.combinations.find((c) => c.id === 'furocoumarin_oils');
    if (sum !== undefined) assert.ok(sum.totalPct <= 100, `${sum.totalPct}`);
    assertAcceptable(brief, composition, 'citrus');
  });
});
