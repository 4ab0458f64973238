import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseOrThrow } from '../errors/index.ts';
import { ODOR_FAMILIES, type OdorFamily } from './palette.ts';

/**
 * Our own perfumery conventions, each a data file under data/ that says so in its `about`: the
 * fragrance wheel (Edwards' order, our mapping of the families onto it), the family descriptors
 * (a transcription of the shared README's derivation table), the mood lexicon, the blenders and the
 * accords. Each file is validated when read; a bad entry stops the loader naming file and field.
 */
const family = z.enum(ODOR_FAMILIES);
const words = z.array(z.string().min(1));
const cas = z.string().regex(/^\d{2,7}-\d{2}-\d$/);

const WheelFile = z.object({ about: z.string(), positions: z.array(z.string().min(1)).min(3), families: z.record(family, z.string()) }).strict();
const FamilyDescriptorsFile = z.object({ about: z.string(), source: z.string(), families: z.record(family, words) }).strict();
const MoodLexiconFile = z.object({ about: z.string(), moods: z.record(z.string(), words), seasons: z.record(z.string(), words), profiles: z.record(z.string(), words) }).strict();
const BlendersFile = z.object({ about: z.string(), families: z.array(family), materials: z.array(z.object({ cas, name: z.string() }).strict()) }).strict();
const AccordsFile = z
  .object({
    about: z.string(),
    accords: z.array(
      z
        .object({
          /** The note the accord stands for, as a brief names it ("green tea"). */
          note: z.string().min(1),
          name: z.string().min(1),
          /** Materials in proportion: parts of the accord (the composer doses them as units). */
          materials: z.array(z.object({ cas, name: z.string(), parts: z.number().int().min(1).max(4) }).strict()).min(2).max(6),
        })
        .strict(),
    ),
  })
  .strict();

export type Wheel = z.infer<typeof WheelFile>;
export type MoodLexicon = z.infer<typeof MoodLexiconFile>;
export type Accord = z.infer<typeof AccordsFile>['accords'][number];

function readJson<S extends z.ZodType>(schema: S, file: string): z.infer<S> {
  const url = new URL(`./data/${file}`, import.meta.url);
  return parseOrThrow(schema, JSON.parse(readFileSync(url, 'utf8')), file);
}

export interface Conventions {
  /** Per family, its wheel neighbours (never itself). */
  readonly neighbours: ReadonlyMap<OdorFamily, ReadonlySet<OdorFamily>>;
  readonly familyDescriptors: Readonly<Record<OdorFamily, readonly string[]>>;
  readonly lexicon: MoodLexicon;
  readonly blenderFamilies: ReadonlySet<OdorFamily>;
  readonly blenderCas: ReadonlySet<string>;
  readonly accords: readonly Accord[];
}

/** Neighbours on a circle of positions: the nearest occupied position each way, plus families sharing one's own. */
export function wheelNeighbours(wheel: Wheel): Map<OdorFamily, Set<OdorFamily>> {
  const n = wheel.positions.length;
  const at = new Map<number, OdorFamily[]>();
  for (const f of ODOR_FAMILIES) {
    const position = wheel.positions.indexOf(wheel.families[f] ?? '');
    if (position === -1) throw new RangeError(`fragrance-wheel.json: family ${f} sits at "${wheel.families[f]}", which is not a position of the wheel`);
    at.set(position, [...(at.get(position) ?? []), f]);
  }
  const out = new Map<OdorFamily, Set<OdorFamily>>();
  for (const [position, families] of at) {
    const near = new Set<OdorFamily>();
    for (const step of [1, -1]) {
      for (let k = 1; k < n; k++) {
        const other = at.get((((position + step * k) % n) + n) % n);
        if (other !== undefined) {
          for (const f of other) near.add(f);
          break;
        }
      }
    }
    for (const f of families) out.set(f, new Set([...near, ...families].filter((g) => g !== f)));
  }
  return out;
}

let cached: Conventions | undefined;
export function conventions(): Conventions {
  if (cached !== undefined) return cached;
  const wheel = readJson(WheelFile, 'fragrance-wheel.json');
  const descriptors = readJson(FamilyDescriptorsFile, 'family-descriptors.json');
  const blenders = readJson(BlendersFile, 'blenders.json');
  for (const f of ODOR_FAMILIES) if (descriptors.families[f] === undefined) throw new RangeError(`family-descriptors.json: family ${f} has no descriptors`);
  cached = {
    neighbours: wheelNeighbours(wheel),
    familyDescriptors: descriptors.families as Record<OdorFamily, string[]>,
    lexicon: readJson(MoodLexiconFile, 'mood-lexicon.json'),
    blenderFamilies: new Set(blenders.families),
    blenderCas: new Set(blenders.materials.map((m) => m.cas)),
    accords: readJson(AccordsFile, 'accords.json').accords,
  };
  return cached;
}
