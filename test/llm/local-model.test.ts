import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { briefJsonSchema, chooseMode, CreativeBriefSchema, localBrief, localBriefTrimmed, type CreativeBrief } from '../../src/llm/index.ts';

/** What a brief must contain (each listed value present; scalars equal). */
interface Expect {
  language: 'ko' | 'en';
  mood?: string[];
  season?: string[];
  families?: string[];
  top?: string[];
  heart?: string[];
  base?: string[];
  forbidden?: string[];
  notWanted?: string[];
  product?: CreativeBrief['productCategory'];
  budget?: CreativeBrief['budgetTier'];
  profile?: CreativeBrief['targetProfile'];
  constraints?: string[];
  hints?: string[];
}

const CASES: Array<[string, Expect]> = [
  ['여름 바다 느낌, 상큼하고 가벼운 향. 바닐라는 싫어요', { language: 'ko', mood: ['fresh', 'light'], season: ['summer'], families: ['marine/ozonic'], forbidden: ['vanilla'], hints: ['sea breeze'] }],
  ['a warm amber for winter evenings, no musk', { language: 'en', mood: ['warm'], season: ['winter'], base: ['amber'], forbidden: ['musk'], notWanted: ['musk'] }],
  ['Romantic rose and jasmine eau de toilette for her, long-lasting', { language: 'en', mood: ['romantic'], heart: ['rose', 'jasmine'], product: 'EDT', profile: 'feminine', constraints: ['long-lasting'] }],
  ['겨울에 어울리는 따뜻한 우디 향수, 머스크 빼고 샌달우드는 좋아요', { language: 'ko', mood: ['warm'], season: ['winter'], families: ['woody'], base: ['sandalwood'], forbidden: ['musk'] }],
  ['cheap fresh citrus body mist for the office, not too strong', { language: 'en', mood: ['fresh'], families: ['citrus'], product: 'BODY_MIST', budget: 'low', constraints: ['soft projection'], hints: ['office'] }],
  ['봄에 어울리는 플로럴 향, 장미와 복숭아', { language: 'ko', season: ['spring'], families: ['floral'], heart: ['rose'], top: ['peach'] }],
  ['a clean laundry scent with white musk', { language: 'en', mood: ['clean'], base: ['musk'], hints: ['fresh laundry'] }],
  ['럭셔리한 니치 향수, 가죽과 인센스, 신비로운 느낌', { language: 'ko', budget: 'luxury', base: ['leather', 'incense'], mood: ['mysterious'] }],
  ['something sweet and cozy with vanilla and tonka for autumn', { language: 'en', mood: ['sweet', 'cozy'], season: ['autumn'], base: ['vanilla', 'tonka'] }],
  ['가을 커피와 카라멜, 달콤한 구르망', { language: 'ko', season: ['autumn'], mood: ['sweet'], base: ['coffee', 'caramel'], families: ['gourmand/sweet'] }],
  ['lavender and bergamot for relaxing before sleep', { language: 'en', mood: ['calm'], heart: ['lavender'], top: ['bergamot'] }],
  ['라벤더 향 디퓨저, 편안하고 차분한 분위기', { language: 'ko', product: 'DIFFUSER', heart: ['lavender'], mood: ['calm'] }],
  ['a candle that smells like a forest after rain, earthy and green', { language: 'en', product: 'CANDLE', families: ['woody', 'green', 'earthy/mossy'], hints: ['rainy day', 'forest walk'] }],
  ['비 오는 날 숲속 같은 향, 흙내음', { language: 'ko', families: ['woody'], hints: ['rainy day', 'forest walk'] }],
  ['energetic sporty fragrance for men with grapefruit and mint', { language: 'en', mood: ['energetic'], profile: 'masculine', top: ['grapefruit', 'mint'] }],
  ['남자 향수, 시트러스와 베티버, 세련된 느낌', { language: 'ko', profile: 'masculine', families: ['citrus'], base: ['vetiver'], mood: ['elegant'] }],
  ['I want a sexy night-out perfume with patchouli, but without vanilla', { language: 'en', mood: ['sensual'], base: ['patchouli'], forbidden: ['vanilla'], hints: ['night out'] }],
  ['파티에 어울리는 관능적인 향, 바닐라 말고 패출리', { language: 'ko', mood: ['sensual'], base: ['patchouli'], forbidden: ['vanilla'], hints: ['night out'] }],
  ['green tea and cucumber, very light and fresh, for summer', { language: 'en', mood: ['light', 'fresh'], season: ['summer'], top: ['green tea', 'cucumber'] }],
  ['녹차와 오이, 가볍고 시원한 여름 향', { language: 'ko', top: ['green tea', 'cucumber'], season: ['summer'], mood: ['light', 'fresh'] }],
  ['hand cream with a soft iris and violet scent, gentle for sensitive skin', { language: 'en', product: 'HAND_CREAM', heart: ['iris', 'violet'], constraints: ['gentle on sensitive skin'] }],
  ['민감한 피부용 바디로션, 은은한 꽃향기', { language: 'ko', product: 'BODY_LOTION', families: ['floral'], constraints: ['gentle on sensitive skin', 'soft projection'] }],
  ['spicy cinnamon and pepper with amber, bold and strong, for winter nights', { language: 'en', heart: ['cinnamon', 'pepper'], base: ['amber'], season: ['winter'], constraints: ['strong projection'] }],
  ['시나몬과 앰버, 강렬한 겨울 향', { language: 'ko', heart: ['cinnamon'], base: ['amber'], season: ['winter'], constraints: ['strong projection'] }],
  ['a unisex cedar and sea salt scent, like a beach vacation', { language: 'en', profile: 'unisex', base: ['cedar'], top: ['sea salt'], families: ['marine/ozonic'], hints: ['summer vacation'] }],
  ['유니섹스 향수, 삼나무와 바다 소금, 휴가 느낌', { language: 'ko', profile: 'unisex', base: ['cedar'], top: ['sea salt'], hints: ['summer vacation'] }],
  ['fruity apple and berry shampoo for kids, no flowers', { language: 'en', product: 'SHAMPOO', top: ['apple', 'berry'], families: ['fruity'], notWanted: ['floral'] }],
  ['사과와 딸기 향 샴푸, 꽃향은 별로예요', { language: 'ko', product: 'SHAMPOO', top: ['apple', 'berry'], notWanted: ['floral'] }],
  ['an elegant jasmine parfum for a first date', { language: 'en', mood: ['elegant', 'romantic'], heart: ['jasmine'], hints: ['first date'] }],
  ['첫 데이트에 뿌릴 우아한 자스민 향', { language: 'ko', mood: ['elegant', 'romantic'], heart: ['jasmine'], hints: ['first date'] }],
  ['affordable orange and mandarin cologne', { language: 'en', budget: 'low', product: 'EDC', top: ['orange', 'mandarin'] }],
  ['가성비 좋은 오렌지 향 코롱', { language: 'ko', budget: 'low', product: 'EDC', top: ['orange'] }],
  ['smoky leather and oud-like incense, mysterious and dark', { language: 'en', mood: ['mysterious'], base: ['leather', 'incense'], families: ['leathery/animalic'] }],
  ['스모키한 가죽 향, 어두운 분위기', { language: 'ko', base: ['leather'], mood: ['mysterious'], families: ['leathery/animalic'] }],
  ['a morning dew garden scent with lily of the valley for spring', { language: 'en', heart: ['lily of the valley'], season: ['spring'], hints: ['morning dew', 'garden in bloom'] }],
  ['봄 아침 이슬 맺힌 정원, 은방울꽃', { language: 'ko', season: ['spring'], heart: ['lily of the valley'], hints: ['morning dew', 'garden in bloom'] }],
  ['shower gel that smells like lemon and mint, refreshing', { language: 'en', product: 'SHOWER_GEL', top: ['lemon', 'mint'], mood: ['fresh'] }],
  ['레몬 민트 샤워젤, 상쾌하게', { language: 'ko', product: 'SHOWER_GEL', top: ['lemon', 'mint'], mood: ['fresh'] }],
  ['premium woody perfume for him, no patchouli, no leather', { language: 'en', budget: 'high', profile: 'masculine', families: ['woody'], forbidden: ['patchouli', 'leather'] }],
  ['프리미엄 남성 우디 향수, 패출리 제외', { language: 'ko', budget: 'high', profile: 'masculine', families: ['woody'], forbidden: ['patchouli'] }],
  ['a chocolate and coffee gourmand for cozy winter evenings at the library', { language: 'en', base: ['chocolate', 'coffee'], mood: ['cozy'], hints: ['old library'] }],
  ['도서관 책 냄새 같은 포근한 향', { language: 'ko', mood: ['cozy'], hints: ['old library'] }],
  ['hair mist with a light peach scent', { language: 'en', product: 'HAIR_MIST', top: ['peach'], mood: ['light'] }],
  ['복숭아 향 헤어미스트, 은은하게', { language: 'ko', product: 'HAIR_MIST', top: ['peach'], constraints: ['soft projection'] }],
];

function includesAll(actual: readonly string[], expected: readonly string[] | undefined, what: string): void {
  for (const value of expected ?? []) assert.ok(actual.includes(value), `${what}: ${value} missing from [${actual.join(', ')}]`);
}

describe('local brief model (deterministic, Korean and English)', () => {
  it(`reads the brief of ${CASES.length} customer texts`, () => {
    assert.ok(CASES.length >= 40);
    assert.ok(CASES.filter(([, e]) => e.language === 'ko').length >= 20, 'at least 20 Korean texts');
    for (const [text, expect] of CASES) {
      const brief = localBrief(text);
      const where = `"${text}"`;
      assert.equal(brief.language, expect.language, where);
      includesAll(brief.mood, expect.mood, `${where} mood`);
      includesAll(brief.season, expect.season, `${where} season`);
      includesAll(brief.notesPreference.families, expect.families, `${where} families`);
      includesAll(brief.notesPreference.top, expect.top, `${where} top`);
      includesAll(brief.notesPreference.heart, expect.heart, `${where} heart`);
      includesAll(brief.notesPreference.base, expect.base, `${where} base`);
      includesAll(brief.forbiddenIngredients, expect.forbidden, `${where} forbidden`);
      includesAll(brief.constraints, expect.constraints, `${where} constraints`);
      includesAll(brief.creativeHints, expect.hints, `${where} hints`);
      for (const no of expect.notWanted ?? []) {
        const wanted = [...brief.notesPreference.top, ...brief.notesPreference.heart, ...brief.notesPreference.base, ...brief.notesPreference.families];
        assert.ok(!wanted.includes(no), `${where}: ${no} is refused, not wanted`);
      }
      if (expect.product) assert.equal(brief.productCategory, expect.product, `${where} product`);
      if (expect.budget) assert.equal(brief.budgetTier, expect.budget, `${where} budget`);
      if (expect.profile) assert.equal(brief.targetProfile, expect.profile, `${where} profile`);
      assert.doesNotThrow(() => CreativeBriefSchema.parse(brief), where);
    }
  });

  it('answers the same brief for the same text (deterministic)', () => {
    for (const [text] of CASES.slice(0, 10)) assert.deepEqual(localBrief(text), localBrief(text));
  });

  it('reads "eau de parfum" as an EDP and "extrait de parfum" as a parfum (the first holds the second\'s word)', () => {
    assert.equal(localBrief('a soft lavender eau de parfum').productCategory, 'EDP');
    assert.equal(localBrief('an extrait de parfum of rose').productCategory, 'PARFUM');
    assert.equal(localBrief('a rose parfum for the evening').productCategory, 'PARFUM');
  });

  it('gives an empty but valid brief for text it has no words for', () => {
    const brief = localBrief('xyzzy plugh');
    assert.deepEqual([brief.language, brief.mood, brief.productCategory], ['en', [], 'EDP']);
  });
});

describe('routing rule', () => {
  it('takes an explicit ask first, then the length and the number of descriptive terms', () => {
    assert.equal(chooseMode('something unique and experimental please'), 'creative');
    assert.equal(chooseMode('독특한 향 추천해 주세요'), 'creative');
    assert.equal(chooseMode('just a quick citrus'), 'fast');
    assert.equal(chooseMode('citrus'), 'fast');
    assert.equal(chooseMode('a warm amber for winter evenings, no musk'), 'balanced');
    assert.equal(chooseMode('a fresh citrus and green tea summer scent with bergamot, lemon, mint, and a sea breeze feeling for the office'), 'creative');
  });
});

describe('CreativeBrief schema', () => {
  it('exports as JSON Schema with every field', () => {
    const schema = briefJsonSchema() as { properties: Record<string, unknown>; type: string };
    assert.equal(schema.type, 'object');
    for (const field of ['language', 'mood', 'season', 'notesPreference', 'forbiddenIngredients', 'budgetTier', 'targetProfile', 'constraints', 'productCategory', 'creativeHints']) assert.ok(field in schema.properties, field);
  });

  it('refuses more than 8 creative hints and unknown fields', () => {
    const base = localBrief('a warm amber');
    assert.throws(() => CreativeBriefSchema.parse({ ...base, creativeHints: Array.from({ length: 9 }, (_, i) => `hint ${i}`) }));
    assert.throws(() => CreativeBriefSchema.parse({ ...base, colour: 'red' }));
  });
});

describe('the last resort never fails', () => {
  const TOPS = ['bergamot', 'lemon', 'grapefruit', 'orange', 'mandarin', 'mint', 'green tea', 'cucumber', 'apple', 'peach', 'berry', 'sea salt'];

  it('trims a text naming 13 top notes to 12, and a refusal of more than 20 things to 20, and says so', () => {
    const many = localBriefTrimmed(`top notes of ${TOPS.join(', ')}, and a touch of yuzu… and also lime: ${TOPS.join(' ')} plus coconut water and mint`);
    assert.ok(many.brief.notesPreference.top.length <= 12);
    const thirteen = localBriefTrimmed(`I want ${[...TOPS, 'lemon'].join(', ')}`);
    assert.ok(thirteen.brief.notesPreference.top.length <= 12);
    const refusals = ['rose', 'jasmine', 'lavender', 'iris', 'violet', 'cinnamon', 'pepper', 'vanilla', 'tonka', 'caramel', 'coffee', 'chocolate', 'sandalwood', 'cedar', 'vetiver', 'patchouli', ...TOPS];
    const refused = localBriefTrimmed(refusals.map((r) => `no ${r}`).join(', '));
    assert.equal(refused.brief.forbiddenIngredients.length, 20);
    assert.match(refused.trimmed.join('\n'), /forbiddenIngredients: \d+ found, the first 20 kept/);
    assert.ok(CreativeBriefSchema.safeParse(refused.brief).success);
  });

  it('answers a valid brief for any text (property, 300 texts: arbitrary Unicode, and runs of every word it knows)', () => {
    const known = fc.constantFrom(...TOPS, 'rose', 'vanilla', 'amber', 'musk', 'no', 'not', 'without', '싫어요', '없이', 'summer', 'winter', 'fresh', 'sweet', 'body lotion', 'cheap', 'luxury', ',', ' ');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 2_000 }), fc.array(known, { maxLength: 400 }).map((words) => words.join(' ')), fc.string({ unit: 'binary', maxLength: 500 })), (text) => {
        const { brief } = localBriefTrimmed(text);
        return CreativeBriefSchema.safeParse(brief).success;
      }),
      { numRuns: 300 },
    );
  });
});
