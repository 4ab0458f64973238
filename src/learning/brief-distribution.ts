import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseOrThrow } from '../errors/index.ts';
import { CreativeBriefSchema, MOODS, NOTE_LEXICON, localBrief, SEASONS, TARGET_PROFILES, type CreativeBrief, type ProductCategory } from '../llm/index.ts';
import { ODOR_FAMILIES, words, type OdorFamily } from '../perfumery/index.ts';
import { TRAINING_BRIEFS } from './briefs.ts';
import { PROJECT_ROOT } from '../system/index.ts';
import { Random } from './random.ts';

/**
 * The brief distribution the policy trains and is judged on: briefs drawn across the CreativeBrief
 * space — 1–3 families, 0–4 named notes by position (from the local brief model's lexicon, which
 * the palette carries or not), moods, seasons, target profile, product category (weighted towards
 * fine fragrance), 0–2 refusals (notes, families, "sweet"/"fresh"-style moods), Korean or English —
 * seeded, so the same seed gives the same briefs. No brief asks for what it refuses.
 *
 * Training draws from TRAINING_SEED; the held-out set from HELD_OUT_SEED, and training never sees a
 * held-out brief (they are removed from its draw). The 8 fixed texts of briefs.ts are a smoke set;
 * `examples/heldout-briefs.json` holds customer-style texts no training run reads.
 */
export const TRAINING_SEED = 20_261_203;
export const HELD_OUT_SEED = 7_700_417;
export const HELD_OUT_SIZE = 200;
export const HELD_OUT_TEXTS_FILE = new URL('examples/heldout-briefs.json', PROJECT_ROOT);
/** Our kept set for the character check (docs/learning.md): never trained on either. */
export const CHARACTER_TEXTS_FILE = new URL('examples/character-briefs.json', PROJECT_ROOT);

/** Product categories by how often customers ask for them (our weighting). */
const PRODUCTS: ReadonlyArray<[ProductCategory, number]> = [
  ['EDP', 30],
  ['EDT', 14],
  ['PARFUM', 5],
  ['EDC', 5],
  ['BODY_MIST', 6],
  ['HAIR_MIST', 5],
  ['BODY_LOTION', 8],
  ['HAND_CREAM', 5],
  ['SHOWER_GEL', 7],
  ['SHAMPOO', 5],
  ['CANDLE', 5],
  ['DIFFUSER', 5],
];
const PRODUCT_TOTAL = PRODUCTS.reduce((sum, [, w]) => sum + w, 0);

/** Refusals customers write that are not notes: families and descriptors. */
const REFUSAL_WORDS = ['musk', 'sweet', 'vanilla', 'floral', 'leather', 'smoky', 'fresh', 'powdery', 'fruity', 'spicy', 'citrus', 'woody', 'rose', 'patchouli', 'animal'];

function pick<T>(random: Random, items: readonly T[]): T {
  return items[random.int(items.length)]!;
}

function sample<T>(random: Random, items: readonly T[], count: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) out.push(pool.splice(random.int(pool.length), 1)[0]!);
  return out;
}

/** One brief, drawn. */
export function drawBrief(random: Random): CreativeBrief {
  const noteCount = [0, 1, 1, 2, 2, 3, 4][random.int(7)]!;
  const notes = sample(random, NOTE_LEXICON, noteCount);
  const families = new Set<OdorFamily>(notes.map((n) => n.family));
  const extraFamilies = random.int(3);
  for (const family of sample(random, ODOR_FAMILIES, extraFamilies)) families.add(family);
  if (families.size === 0) families.add(pick(random, ODOR_FAMILIES));
  while (families.size > 3) families.delete([...families][families.size - 1]!);
  const wantedWords = new Set([...notes.map((n) => n.en), ...[...families].flatMap((f) => f.split('/'))]);
  const refusals = sample(
    random,
    [...REFUSAL_WORDS, ...NOTE_LEXICON.map((n) => n.en)].filter((word) => ![...wantedWords].some((w) => w.includes(word) || word.includes(w)) && !notes.some((n) => n.family.includes(word))),
    [0, 0, 1, 1, 2][random.int(5)]!,
  );
  let roll = random.int(PRODUCT_TOTAL);
  let productCategory: ProductCategory = 'EDP';
  for (const [product, weight] of PRODUCTS) {
    if (roll < weight) {
      productCategory = product;
      break;
    }
    roll -= weight;
  }
  const byPosition = (position: 'top' | 'heart' | 'base') => notes.filter((n) => n.position === position).map((n) => n.en);
  return CreativeBriefSchema.parse({
    language: random.next() < 0.5 ? 'ko' : 'en',
    mood: sample(random, MOODS.filter((m) => !refusals.includes(m)), random.int(3)),
    season: sample(random, SEASONS, random.int(3)),
    notesPreference: { families: [...families], top: byPosition('top'), heart: byPosition('heart'), base: byPosition('base') },
    forbiddenIngredients: refusals,
    targetProfile: pick(random, TARGET_PROFILES),
    productCategory,
  });
}

/**
 * A brief as the environment reads it, as a key: two briefs with the same key get the same state,
 * the same target and the same reward, whatever else differs (language, budget, constraints, hints,
 * the position a note was named at, its spelling: notes and refusals are compared as their stemmed
 * words, as the environment matches them). The dosage the request sets is part of it.
 */
export function briefKey(brief: CreativeBrief, dosagePct?: number): string {
  const sorted = (items: Iterable<string>) => [...new Set(items)].sort().join(',');
  const asWords = (items: readonly string[]) => sorted(items.map((item) => words(item).join(' ')).filter((w) => w !== ''));
  const n = brief.notesPreference;
  return [sorted(n.families), asWords([...n.top, ...n.heart, ...n.base]), asWords(brief.forbiddenIngredients), sorted(brief.mood), sorted(brief.season), brief.targetProfile, brief.productCategory, dosagePct ?? ''].join('|');
}

/** `count` distinct briefs drawn from `seed`, leaving out any whose key is in `exclude`. */
export function drawBriefs(seed: number, count: number, exclude: ReadonlySet<string> = new Set()): CreativeBrief[] {
  const random = new Random(seed);
  const seen = new Set(exclude);
  const out: CreativeBrief[] = [];
  for (let attempts = 0; out.length < count && attempts < count * 50; attempts++) {
    const brief = drawBrief(random);
    const key = briefKey(brief);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(brief);
  }
  return out;
}

const HeldOutTexts = z.object({ about: z.string().optional(), texts: z.array(z.string().min(1)).min(1) }).strict();

/** The customer-style texts of examples/heldout-briefs.json (or another such file: the kept character set), as the local brief model reads them. */
export function heldOutTextBriefs(file: URL | string = HELD_OUT_TEXTS_FILE): CreativeBrief[] {
  const parsed = parseOrThrow(HeldOutTexts, JSON.parse(readFileSync(file, 'utf8')), 'heldout-briefs.json');
  return parsed.texts.map(localBrief);
}

export interface BriefSets {
  /** What training draws from. */
  readonly training: readonly CreativeBrief[];
  /** Generated with HELD_OUT_SEED plus the customer texts: never trained on. */
  readonly heldOut: readonly CreativeBrief[];
  /** Our kept character set (examples/character-briefs.json): never trained on. */
  readonly character: readonly CreativeBrief[];
  /** The 8 fixed texts (a smoke set). */
  readonly smoke: readonly CreativeBrief[];
}

/** The brief sets of a training run: `trainingCount` distinct training briefs, none of them held out (by briefKey: as the environment reads them). */
export function briefSets(trainingCount = 4000, trainingSeed = TRAINING_SEED): BriefSets {
  const generated = drawBriefs(HELD_OUT_SEED, HELD_OUT_SIZE);
  const texts = heldOutTextBriefs();
  const heldOut = [...generated, ...texts];
  const character = heldOutTextBriefs(CHARACTER_TEXTS_FILE);
  const training = drawBriefs(trainingSeed, trainingCount, new Set([...heldOut, ...character].map((brief) => briefKey(brief))));
  return { training, heldOut, character, smoke: TRAINING_BRIEFS.map(localBrief) };
}

