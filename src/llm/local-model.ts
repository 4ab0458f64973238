import { briefJsonSchema, CreativeBriefSchema, type CreativeBrief, type ProductCategory } from './brief-schema.ts';

/**
 * The embedded local brief model: deterministic, rule-based, Korean and English. It is not an LLM
 * and never claims to be one (its model label is `local`): it reads the words it has lexicons for
 * — notes, families, moods, seasons, product types, budget, negations — and nothing else. It answers
 * when no LLM slot is configured, and when every configured slot fails.
 */
type Position = 'top' | 'heart' | 'base';
interface Note {
  readonly en: string;
  readonly words: readonly string[];
  readonly position: Position;
  readonly family: CreativeBrief['notesPreference']['families'][number];
}

const NOTES: readonly Note[] = [
  { en: 'bergamot', words: ['bergamot', '베르가못'], position: 'top', family: 'citrus' },
  { en: 'lemon', words: ['lemon', '레몬'], position: 'top', family: 'citrus' },
  { en: 'grapefruit', words: ['grapefruit', '자몽'], position: 'top', family: 'citrus' },
  { en: 'orange', words: ['orange', '오렌지'], position: 'top', family: 'citrus' },
  { en: 'mandarin', words: ['mandarin', '귤', '만다린'], position: 'top', family: 'citrus' },
  { en: 'mint', words: ['mint', '민트', '박하'], position: 'top', family: 'aromatic/herbal' },
  { en: 'green tea', words: ['green tea', '녹차'], position: 'top', family: 'green' },
  { en: 'cucumber', words: ['cucumber', '오이'], position: 'top', family: 'green' },
  { en: 'apple', words: ['apple', '사과'], position: 'top', family: 'fruity' },
  { en: 'peach', words: ['peach', '복숭아'], position: 'top', family: 'fruity' },
  { en: 'berry', words: ['berry', 'berries', '베리', '딸기'], position: 'top', family: 'fruity' },
  { en: 'sea salt', words: ['sea salt', '바다 소금', '소금'], position: 'top', family: 'marine/ozonic' },
  { en: 'rose', words: ['rose', '장미', '로즈'], position: 'heart', family: 'floral' },
  { en: 'jasmine', words: ['jasmine', '자스민', '재스민'], position: 'heart', family: 'floral' },
  { en: 'lavender', words: ['lavender', '라벤더'], position: 'heart', family: 'aromatic/herbal' },
  { en: 'lily of the valley', words: ['lily of the valley', 'muguet', '은방울꽃'], position: 'heart', family: 'floral' },
  { en: 'iris', words: ['iris', 'orris', '아이리스'], position: 'heart', family: 'floral' },
  { en: 'violet', words: ['violet', '제비꽃', '바이올렛'], position: 'heart', family: 'floral' },
  { en: 'cinnamon', words: ['cinnamon', '시나몬', '계피'], position: 'heart', family: 'spicy' },
  { en: 'pepper', words: ['pepper', '후추', '페퍼'], position: 'heart', family: 'spicy' },
  { en: 'tea', words: [' tea', '홍차'], position: 'heart', family: 'aromatic/herbal' },
  { en: 'vanilla', words: ['vanilla', '바닐라'], position: 'base', family: 'gourmand/sweet' },
  { en: 'tonka', words: ['tonka', '통카'], position: 'base', family: 'gourmand/sweet' },
  { en: 'caramel', words: ['caramel', '카라멜', '캐러멜'], position: 'base', family: 'gourmand/sweet' },
  { en: 'coffee', words: ['coffee', '커피'], position: 'base', family: 'gourmand/sweet' },
  { en: 'chocolate', words: ['chocolate', '초콜릿', '초콜렛'], position: 'base', family: 'gourmand/sweet' },
  { en: 'sandalwood', words: ['sandalwood', '샌달우드', '백단'], position: 'base', family: 'woody' },
  { en: 'cedar', words: ['cedar', '시더', '삼나무'], position: 'base', family: 'woody' },
  { en: 'vetiver', words: ['vetiver', '베티버'], position: 'base', family: 'woody' },
  { en: 'patchouli', words: ['patchouli', '패출리', '파출리'], position: 'base', family: 'woody' },
  { en: 'musk', words: ['musk', '머스크', '사향'], position: 'base', family: 'musky' },
  { en: 'amber', words: ['amber', '앰버', '호박'], position: 'base', family: 'ambery/balsamic' },
  { en: 'incense', words: ['incense', '인센스', '향냄새'], position: 'base', family: 'ambery/balsamic' },
  { en: 'leather', words: ['leather', '가죽', '레더'], position: 'base', family: 'leathery/animalic' },
  { en: 'oakmoss', words: ['oakmoss', 'moss', '이끼', '오크모스'], position: 'base', family: 'earthy/mossy' },
  { en: 'lime', words: [' lime', '라임'], position: 'top', family: 'citrus' },
  { en: 'pear', words: [' pear ', ' pears', '서양배'], position: 'top', family: 'fruity' },
  { en: 'strawberry', words: ['strawberry', 'strawberries', '딸기'], position: 'top', family: 'fruity' },
  { en: 'raspberry', words: ['raspberry', 'raspberries', '라즈베리', '산딸기'], position: 'top', family: 'fruity' },
  { en: 'fig', words: [' fig', '무화과'], position: 'top', family: 'green' },
  { en: 'ginger', words: ['ginger', '생강', '진저'], position: 'top', family: 'spicy' },
  { en: 'cardamom', words: ['cardamom', '카다멈', '카르다몸'], position: 'top', family: 'spicy' },
  { en: 'rosemary', words: ['rosemary', '로즈마리'], position: 'top', family: 'aromatic/herbal' },
  { en: 'neroli', words: ['neroli', 'orange blossom', '네롤리', '오렌지 블라썸', '오렌지꽃'], position: 'heart', family: 'floral' },
  { en: 'tuberose', words: ['tuberose', '튜베로즈'], position: 'heart', family: 'floral' },
  { en: 'ylang ylang', words: ['ylang', '일랑일랑'], position: 'heart', family: 'floral' },
  { en: 'geranium', words: ['geranium', '제라늄'], position: 'heart', family: 'floral' },
  { en: 'hyacinth', words: ['hyacinth', '히아신스'], position: 'heart', family: 'floral' },
  { en: 'plum', words: [' plum', '자두'], position: 'heart', family: 'fruity' },
  { en: 'clove', words: ['clove', '정향', '클로브'], position: 'heart', family: 'spicy' },
  { en: 'saffron', words: ['saffron', '사프란'], position: 'heart', family: 'spicy' },
  { en: 'sage', words: [' sage', 'clary sage', '세이지'], position: 'heart', family: 'aromatic/herbal' },
  { en: 'coconut', words: ['coconut', '코코넛'], position: 'base', family: 'gourmand/sweet' },
  { en: 'honey', words: [' honey', '허니', '꿀'], position: 'base', family: 'gourmand/sweet' },
  { en: 'almond', words: ['almond', '아몬드'], position: 'base', family: 'gourmand/sweet' },
  { en: 'oud', words: [' oud', 'agarwood', '오우드', '침향'], position: 'base', family: 'woody' },
  { en: 'tobacco', words: ['tobacco', '담배', '타바코'], position: 'base', family: 'leathery/animalic' },
  { en: 'labdanum', words: ['labdanum', '라브다넘'], position: 'base', family: 'ambery/balsamic' },
  { en: 'benzoin', words: ['benzoin', '벤조인'], position: 'base', family: 'ambery/balsamic' },
  { en: 'myrrh', words: ['myrrh', '몰약', '미르'], position: 'base', family: 'ambery/balsamic' },
  { en: 'cotton flower', words: ['cotton flower', 'cotton', '목화', '코튼'], position: 'heart', family: 'musky' },
];

/** The notes the local model reads, in English, with their usual position and family (the brief distribution draws from these). */
export const NOTE_LEXICON: ReadonlyArray<{ readonly en: string; readonly position: Position; readonly family: Note['family'] }> = NOTES.map(({ en, position, family }) => ({ en, position, family }));

const FAMILY_WORDS: ReadonlyArray<[CreativeBrief['notesPreference']['families'][number], readonly string[]]> = [
  ['citrus', ['citrus', 'citrusy', '시트러스', '상큼', '새콤']],
  ['floral', ['floral', 'flowery', 'flower', '플로럴', '꽃']],
  ['woody', ['woody', 'wood', 'forest', '우디', '나무', '숲']],
  ['marine/ozonic', ['marine', 'aquatic', 'ocean', 'sea', 'beach', '바다', '해변', '아쿠아', '마린']],
  ['green', ['green', 'grass', '그린', '풀내음', '풀향']],
  ['fruity', ['fruity', 'fruit', '과일', '프루티']],
  ['gourmand/sweet', ['gourmand', 'dessert', '구르망', '디저트']],
  ['spicy', ['spicy', 'spice', '스파이시', '향신료']],
  ['musky', ['musky', '머스키']],
  ['ambery/balsamic', ['ambery', 'oriental', 'resinous', '오리엔탈']],
  ['aromatic/herbal', ['herbal', 'aromatic', 'herb', '허브', '허벌']],
  ['leathery/animalic', ['leathery', 'smoky', 'smoke', '스모키', '연기']],
  ['earthy/mossy', ['earthy', 'mossy', '흙']],
  ['aldehydic', ['aldehydic', 'soapy', 'powdery', '비누', '파우더리']],
];

const MOOD_WORDS: ReadonlyArray<[CreativeBrief['mood'][number], readonly string[]]> = [
  ['fresh', ['fresh', 'refreshing', 'crisp', '상쾌', '상큼', '청량', '시원']],
  ['light', ['light', 'airy', 'subtle', '가벼운', '가볍', '은은']],
  ['warm', ['warm', 'cozy warm', '따뜻', '따스']],
  ['sweet', ['sweet', '달콤', '달달', '스위트']],
  ['romantic', ['romantic', 'date', '로맨틱', '데이트', '설레']],
  ['clean', ['clean', 'pure', 'laundry', '깨끗', '깔끔', '청결', '포근한 빨래']],
  ['calm', ['calm', 'relaxing', 'peaceful', 'soothing', '차분', '편안', '평온', '힐링']],
  ['sensual', ['sensual', 'sexy', 'seductive', '관능', '섹시', '유혹']],
  ['cozy', ['cozy', 'comforting', 'snug', '포근', '아늑']],
  ['elegant', ['elegant', 'sophisticated', 'classy', 'chic', '우아', '세련', '고급스러운']],
  ['energetic', ['energetic', 'vibrant', 'sporty', 'active', '활기', '에너지', '생기']],
  ['mysterious', ['mysterious', 'dark', 'enigmatic', '신비', '미스터리', '어두운']],
];

const SEASON_WORDS: ReadonlyArray<[CreativeBrief['season'][number], readonly string[]]> = [
  ['spring', ['spring', '봄']],
  ['summer', ['summer', '여름']],
  ['autumn', ['autumn', 'fall ', '가을']],
  ['winter', ['winter', '겨울', 'christmas', '크리스마스']],
];

const PRODUCT_WORDS: ReadonlyArray<[ProductCategory, readonly string[]]> = [
  ['EDT', ['eau de toilette', 'edt', '오드뚜왈렛', '오 드 뚜왈렛', '오드투왈렛']],
  ['EDC', ['eau de cologne', 'cologne', '코롱']],
  // Before PARFUM: "eau de parfum" also holds the word "parfum".
  ['EDP', ['eau de parfum', 'edp', '오드퍼퓸', '오 드 퍼퓸']],
  ['PARFUM', ['extrait', 'parfum ', 'pure perfume', '퍼퓸 엑스트레', '엑스트레']],
  ['BODY_MIST', ['body mist', '바디 미스트', '바디미스트']],
  ['HAIR_MIST', ['hair mist', '헤어 미스트', '헤어미스트']],
  ['BODY_LOTION', ['body lotion', '바디로션', '바디 로션']],
  ['HAND_CREAM', ['hand cream', '핸드크림', '핸드 크림']],
  ['SHOWER_GEL', ['shower gel', 'body wash', '샤워젤', '바디워시']],
  ['SHAMPOO', ['shampoo', '샴푸']],
  ['CANDLE', ['candle', '캔들', '양초']],
  ['DIFFUSER', ['diffuser', '디퓨저']],
];

const BUDGET_WORDS: ReadonlyArray<[CreativeBrief['budgetTier'], readonly string[]]> = [
  ['low', ['cheap', 'budget', 'affordable', 'inexpensive', '저렴', '가성비', '싼']],
  ['high', ['premium', 'high-end', '프리미엄', '고가']],
  ['luxury', ['luxury', 'luxurious', 'niche', '럭셔리', '명품', '니치']],
];

const PROFILE_WORDS: ReadonlyArray<[CreativeBrief['targetProfile'], readonly string[]]> = [
  ['feminine', ['for women', 'for her', 'feminine', 'woman', '여성', '여자', '그녀']],
  ['masculine', ['for men', 'for him', 'masculine', ' man ', '남성', '남자', '그에게']],
  ['unisex', ['unisex', 'gender-neutral', '유니섹스', '남녀공용']],
];

const CONSTRAINT_WORDS: ReadonlyArray<[string, readonly string[]]> = [
  ['long-lasting', ['long-lasting', 'long lasting', 'lasts all day', '오래 가', '지속력', '오래가']],
  ['soft projection', ['not too strong', 'subtle', 'close to the skin', '은은', '너무 강하지 않', '진하지 않']],
  ['strong projection', ['strong', 'bold', 'powerful', '강렬', '진한']],
  ['gentle on sensitive skin', ['sensitive skin', 'allergy', 'allergic', 'hypoallergenic', '민감', '알레르기', '저자극']],
];

/** Images a brief can carry into the formula. */
const HINT_WORDS: ReadonlyArray<[string, readonly string[]]> = [
  ['sea breeze', ['sea breeze', 'ocean breeze', '바닷바람', '바다 느낌', '바다느낌']],
  ['rainy day', ['rain', 'rainy', '비 오는', '비오는', '빗소리']],
  ['forest walk', ['forest', '숲']],
  ['old library', ['library', 'old books', '도서관', '책 냄새']],
  ['winter evening by the fire', ['fireplace', 'by the fire', 'winter evening', '벽난로', '겨울 저녁']],
  ['fresh laundry', ['laundry', 'clean sheets', '빨래', '섬유유연제']],
  ['morning dew', ['morning dew', 'dawn', '아침 이슬', '새벽']],
  ['summer vacation', ['vacation', 'holiday', 'resort', '휴가', '바캉스', '여행']],
  ['garden in bloom', ['garden', '정원', '꽃밭']],
  ['first date', ['first date', '첫 데이트', '설렘']],
  ['night out', ['night out', 'night-out', 'party', 'club', '파티', '밤']],
  ['office', ['office', 'work', '출근', '회사', '오피스']],
];

const EN_NEGATIONS = ['no', 'without', 'not', 'hate', 'dislike', 'avoid', 'except', 'never', "don't", 'dont', 'nothing'];
/** Korean negations follow the noun: "바닐라는 싫어요", "머스크 빼고", "장미 없이". */
const KO_NEGATIONS = ['싫', '빼', '없이', '말고', '제외', '별로', '안 좋아', '못 견', '노노'];

function lower(text: string): string {
  return ` ${text.toLowerCase().replace(/\s+/g, ' ')} `;
}

/** Where `word` occurs in the text; a Latin word only where it starts a word ("rose" is not in "tuberose"). */
function positions(haystack: string, word: string): number[] {
  const out: number[] = [];
  const latin = /^[a-z]/.test(word);
  for (let i = haystack.indexOf(word); i !== -1; i = haystack.indexOf(word, i + 1)) {
    if (latin && i > 0 && /[a-z]/.test(haystack[i - 1]!)) continue;
    out.push(i);
  }
  return out;
}

/** Whether the occurrence of `word` at `at` is negated ("no vanilla", "바닐라는 싫어요"). */
function negated(text: string, at: number, word: string): boolean {
  const before = text.slice(Math.max(0, at - 24), at).trim().split(/[\s,]+/).slice(-3);
  if (before.some((token) => EN_NEGATIONS.includes(token.replace(/[^a-z']/g, '')))) return true;
  const after = text.slice(at + word.length, at + word.length + 8);
  if (/^\s*-?free\b/.test(after)) return true;
  // Korean puts the negation right after the noun and its particle ("바닐라는 싫어요", "머스크 빼고"),
  // within the same clause: up to the next punctuation, a few characters on.
  const clause = after.split(/[,.!?]/)[0] ?? '';
  return KO_NEGATIONS.some((negation) => clause.includes(negation));
}

function matches<T>(text: string, table: ReadonlyArray<[T, readonly string[]]>): T[] {
  const out: T[] = [];
  for (const [value, words] of table) if (words.some((w) => positions(text, w).some((at) => !negated(text, at, w)))) out.push(value);
  return out;
}

/** How many lexicon terms the text uses (the routing rule reads this). */
export function descriptiveTerms(text: string): number {
  const t = lower(text);
  const tables: ReadonlyArray<ReadonlyArray<[unknown, readonly string[]]>> = [FAMILY_WORDS, MOOD_WORDS, SEASON_WORDS, HINT_WORDS, NOTES.map((n) => [n.en, n.words] as [unknown, readonly string[]])];
  let count = 0;
  for (const table of tables) for (const [, words] of table) if (words.some((w) => t.includes(w))) count++;
  return count;
}

/** The local model's brief. It never fails: what exceeds the schema's bounds is trimmed (see localBriefTrimmed). */
export function localBrief(text: string): CreativeBrief {
  return localBriefTrimmed(text).brief;
}

/**
 * The schema's bound on each list the local model fills, and the path it is reported under: read
 * from the schema itself (its JSON Schema's maxItems), so the trim cannot drift from the check.
 */
const BOUNDS: ReadonlyArray<[string, number]> = (() => {
  type Node = { properties?: Record<string, Node>; maxItems?: number };
  const out: Array<[string, number]> = [];
  const walk = (node: Node, prefix: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (child.maxItems !== undefined) out.push([`${prefix}${key}`, child.maxItems]);
      else if (child.properties !== undefined) walk(child, `${prefix}${key}.`);
    }
  };
  walk(briefJsonSchema() as Node, '');
  return out;
})();

/**
 * The last resort never fails: the brief is trimmed to the schema's bounds (a text naming 13 top
 * notes keeps the first 12) and says what it trimmed; a brief that still would not validate (it
 * cannot, but the service must not answer 500 if it ever did) is the neutral default brief.
 */
export function localBriefTrimmed(text: string): { brief: CreativeBrief; trimmed: string[] } {
  const draft = draftLocalBrief(text);
  const trimmed: string[] = [];
  for (const [path, bound] of BOUNDS) {
    const [head, tail] = path.split('.') as [string, string | undefined];
    const holder = (tail === undefined ? draft : draft[head]) as Record<string, unknown>;
    const list = holder[tail ?? head] as unknown[];
    if (list.length > bound) {
      trimmed.push(`${path}: ${list.length} found, the first ${bound} kept (the schema's bound)`);
      holder[tail ?? head] = list.slice(0, bound);
    }
  }
  const parsed = CreativeBriefSchema.safeParse(draft);
  if (parsed.success) return { brief: parsed.data, trimmed };
  return { brief: CreativeBriefSchema.parse({ language: 'en', notesPreference: {} }), trimmed: [...trimmed, `the text did not make a valid brief (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}): the neutral brief instead`] };
}

function draftLocalBrief(text: string): Record<string, unknown> & { notesPreference: Record<string, unknown> } {
  const t = lower(text);
  const language = /[\uac00-\ud7a3]/.test(text) ? 'ko' : 'en';
  const wanted: Record<Position, string[]> = { top: [], heart: [], base: [] };
  const forbidden: string[] = [];
  const families = new Set<CreativeBrief['notesPreference']['families'][number]>();
  for (const note of NOTES) {
    const hits = note.words.flatMap((w) => positions(t, w).map((at) => ({ at, w })));
    if (hits.length === 0) continue;
    if (hits.some(({ at, w }) => negated(t, at, w))) forbidden.push(note.en);
    else {
      wanted[note.position].push(note.en);
      families.add(note.family);
    }
  }
  for (const family of matches(t, FAMILY_WORDS)) families.add(family);
  // A family that was only named to be refused ("no florals") is not wanted.
  for (const [family, words] of FAMILY_WORDS) {
    if (words.some((w) => positions(t, w).some((at) => negated(t, at, w))) && !NOTES.some((n) => n.family === family && wanted[n.position].includes(n.en))) {
      families.delete(family);
      if (!forbidden.includes(family)) forbidden.push(family);
    }
  }
  // A mood named to be refused ("nothing sweet", "달콤한 건 싫어요") refuses what carries it.
  for (const [mood, words] of MOOD_WORDS) {
    if (words.some((w) => positions(t, w).some((at) => negated(t, at, w))) && !forbidden.includes(mood)) forbidden.push(mood);
  }
  const [productCategory] = matches(t, PRODUCT_WORDS);
  const [budgetTier] = matches(t, BUDGET_WORDS);
  const profiles = matches(t, PROFILE_WORDS);
  return {
    language,
    mood: matches(t, MOOD_WORDS),
    season: matches(t, SEASON_WORDS),
    notesPreference: { families: [...families], top: wanted.top, heart: wanted.heart, base: wanted.base },
    forbiddenIngredients: forbidden,
    budgetTier: budgetTier ?? 'mid',
    targetProfile: profiles.length === 1 ? profiles[0] : 'unisex',
    constraints: matches(t, CONSTRAINT_WORDS),
    productCategory: productCategory ?? 'EDP',
    creativeHints: matches(t, HINT_WORDS),
  };
}
