import type { CreativeBrief } from '../llm/index.ts';
import { conventions, cosine, OdourSpace, positionOf, wordCarries, words, type Conventions, type OdorFamily, type PaletteMaterial, type Position } from '../perfumery/index.ts';

/**
 * Character: whether a formula smells of what the brief asked for, read as a perfumer would
 * (docs/learning.md, "Character"). Two readings:
 *
 * - **the criterion** (a yes/no a reviewer can check by hand): at least CHARACTER_SHARE of the
 *   concentrate is on-character — a material of an asked family, of a wheel neighbour of one
 *   (src/perfumery/data/fragrance-wheel.json), a carrier of a named note (or a member of the accord
 *   that stands for it), or a blender (data/blenders.json) — no other line is above
 *   OFF_CHARACTER_LINE_PCT, and every named note the palette carries is present at a level one can
 *   smell;
 * - **fidelity** (a number the reward rests on): the cosine of the formula's odour profile — its
 *   lines' profiles weighted by amount × impact — with the brief's target profile, built from its
 *   families, named notes, moods, seasons and target profile through the mood lexicon.
 */
export const CHARACTER_SHARE = 0.7;
export const OFF_CHARACTER_LINE_PCT = 10;
/**
 * A named note is smelled once its carriers hold this much of the concentrate, weighted by impact
 * (our convention); a carrier counts in full at half the most the brief allows of it — a trace or
 * restricted material is smelled at the level it can be used.
 */
export const NOTE_SMELL_PCT = 1;
/** A carrier held at this share of the most the brief allows it (its maximum use level, or its IFRA limit at the dosage) is smelled: a restricted material cannot be asked for more. */
export const NOTE_SMELL_SHARE_OF_CAP = 0.5;

/** Weights of a brief's parts in its target profile (our convention; docs/learning.md). */
const TARGET_WEIGHTS = { family: 2, familyWords: 1, neighbour: 0.4, noteWords: 1.5, noteCarriers: 1, mood: 1.5, season: 0.8, profile: 0.5 } as const;

/** What the composer and the reward need of each palette material. */
export interface MaterialInfo {
  readonly position: Position;
  readonly family: OdorFamily;
  /** Stemmed words of its name and IFRA descriptors (what notes and refusals match). */
  readonly words: readonly string[];
  readonly name: string;
  readonly maxUsePct: number;
  readonly typicalPct: number;
  readonly impact: number;
  readonly blender: boolean;
  /** % of the concentrate at which it alone makes a named note smelled (NOTE_SMELL_PCT ÷ impact, or half its maximum for a trace material). */
  readonly smellPct: number;
}

export type CharacterRole = 'asked' | 'note' | 'neighbour' | 'blender';

export interface NoteCarriers {
  readonly note: string;
  /** Allowed materials that carry it by name or IFRA descriptor; empty when an accord stands for it. */
  readonly carriers: readonly number[];
  /** The accord that stands for the note when no allowed material carries it (data/accords.json). */
  readonly accord: { readonly name: string; readonly members: ReadonlyArray<{ readonly index: number; readonly parts: number }> } | null;
}

export interface NoteReading {
  readonly note: string;
  /** Its carriers' % of the concentrate, weighted by impact. */
  readonly heldPct: number;
  readonly present: boolean;
  readonly accord: string | null;
}

export interface CharacterReading {
  /** % of the concentrate on-character. */
  readonly onCharacterPct: number;
  /** Palette indices of the lines off-character above OFF_CHARACTER_LINE_PCT. */
  readonly offCharacterOverLimit: readonly number[];
  readonly notes: readonly NoteReading[];
  /** Cosine of the formula's profile with the brief's target (1 for a brief that asks nothing). */
  readonly fidelity: number;
  /** The criterion: share, no off-character line over the limit, every carried note smelled. */
  readonly hasCharacter: boolean;
}

/** The parts of a brief's context that character decides (composer.ts adds the regulatory ones). */
export interface CharacterContext {
  readonly wantedFamilies: ReadonlySet<OdorFamily>;
  readonly neighbourFamilies: ReadonlySet<OdorFamily>;
  readonly notes: readonly NoteCarriers[];
  readonly unavailableNotes: readonly string[];
  /** Per material: 1 when it carries an available note (or belongs to the accord standing for one). */
  readonly carriesNote: Uint8Array;
  /** Per material: 1 when on-character for this brief. */
  readonly onCharacter: Uint8Array;
  /** Per material: why it is on-character (the strongest reason), or null. */
  readonly roles: ReadonlyArray<CharacterRole | null>;
  readonly target: Float64Array;
  /** The target's length; 0 when it is empty (a brief that asks nothing: every formula is faithful to it). */
  readonly targetNorm: number;
  /** Per material: cosine of its profile with the target. */
  readonly affinity: Float32Array;
  /** Per material: the most the brief allows of it, % of the concentrate (its maximum use level and IFRA limit at the dosage); absent: the maximum use level. */
  readonly capPct?: Float64Array;
}

const DEFAULT_TYPICAL_PCT = 2;

export class CharacterModel {
  readonly space: OdourSpace;
  readonly info: readonly MaterialInfo[];
  readonly conventions: Conventions;
  private readonly accordIndex: ReadonlyMap<string, NonNullable<NoteCarriers['accord']> & { allMembers: ReadonlyArray<{ index: number; parts: number }> }>;

  constructor(
    readonly palette: readonly PaletteMaterial[],
    options: { unsourcedWorkingCapPct: number; unsourcedMaxUsePct: number },
  ) {
    this.conventions = conventions();
    this.space = new OdourSpace(palette);
    const blenderCas = this.conventions.blenderCas;
    this.info = palette.map((m, i) => {
      const maxUsePct = Math.min(m.maxUsePct ?? options.unsourcedWorkingCapPct, options.unsourcedMaxUsePct, 100);
      const impact = this.space.impacts[i]!;
      return {
        position: positionOf(m),
        family: m.odorFamily,
        words: [...new Set([...words(m.name), ...m.odorDescriptors.flatMap(words)])],
        name: m.name.toLowerCase(),
        maxUsePct,
        typicalPct: Math.min(m.typicalUsePct ?? DEFAULT_TYPICAL_PCT, maxUsePct),
        impact,
        blender: blenderCas.has(m.cas) || this.conventions.blenderFamilies.has(m.odorFamily),
        smellPct: maxUsePct < 2 * NOTE_SMELL_PCT ? maxUsePct / 2 : NOTE_SMELL_PCT / impact,
      };
    });
    const byCas = new Map(palette.map((m, i) => [m.cas, i]));
    this.accordIndex = new Map(
      this.conventions.accords.map((accord) => {
        const allMembers = accord.materials.map((m) => {
          const index = byCas.get(m.cas);
          if (index === undefined) throw new RangeError(`accords.json: ${accord.name} names ${m.name} (${m.cas}), which is not in the palette`);
          return { index, parts: m.parts };
        });
        return [accord.note.trim().toLowerCase(), { name: accord.name, members: allMembers, allMembers }];
      }),
    );
  }

  /** Whether material `index` carries every word of a note among its name and IFRA descriptors. */
  carriesWords(index: number, wanted: readonly string[]): boolean {
    const own = this.info[index]!.words;
    return wanted.length > 0 && wanted.every((token) => own.some((word) => wordCarries(word, token)));
  }

  carries(index: number, note: string): boolean {
    return this.carriesWords(index, words(note));
  }

  /** Whether the refusal `term` refuses material `index`: by family, name or descriptor. */
  refuses(index: number, term: string): boolean {
    return this.refusal(term)(index);
  }

  /** The materials a note's words name (any material, allowed or not), worked out once per note and kept (notes repeat). */
  private readonly namedBy = new Map<string, readonly number[]>();
  carriersOf(note: string): readonly number[] {
    return remember(this.namedBy, note, () => {
      const tokens = words(note);
      return this.info.flatMap((_, i) => (this.carriesWords(i, tokens) ? [i] : []));
    });
  }

  /** The materials a refusal refuses, worked out once per term and kept. */
  private readonly refusedBy = new Map<string, Uint8Array>();
  refusedSet(term: string): Uint8Array {
    return remember(this.refusedBy, term, () => {
      const refuses = this.refusal(term);
      return Uint8Array.from(this.info, (_, i) => (refuses(i) ? 1 : 0));
    });
  }

  /** A refusal as a test of materials, its words worked out once. */
  refusal(term: string): (index: number) => boolean {
    const f = term.trim().toLowerCase();
    const tokens = words(term);
    return (index) => {
      const info = this.info[index]!;
      if (f === '') return false;
      if (info.family === f || info.family.split('/').some((segment) => segment.startsWith(f) || (f.startsWith(segment) && segment.length >= 4))) return true;
      if (info.name.includes(f)) return true;
      return this.carriesWords(index, tokens);
    };
  }

  /** The accord that stands for a note, if we have one. */
  accordFor(note: string): (NonNullable<NoteCarriers['accord']> & { allMembers: ReadonlyArray<{ index: number; parts: number }> }) | undefined {
    return this.accordIndex.get(note.trim().toLowerCase());
  }

  /** The brief's character: what is on-character, the notes' carriers, the target profile and each material's affinity. */
  characterOf(brief: CreativeBrief, allowed: Uint8Array): CharacterContext {
    const n = this.info.length;
    const wantedFamilies = new Set<OdorFamily>(brief.notesPreference.families);
    const neighbourFamilies = new Set<OdorFamily>();
    for (const f of wantedFamilies) for (const g of this.conventions.neighbours.get(f) ?? []) if (!wantedFamilies.has(g)) neighbourFamilies.add(g);
    const named = [...new Set([...brief.notesPreference.top, ...brief.notesPreference.heart, ...brief.notesPreference.base].map((note) => note.trim().toLowerCase()))];
    const notes: NoteCarriers[] = [];
    const unavailableNotes: string[] = [];
    const carriesNote = new Uint8Array(n);
    for (const note of named) {
      const carriers = this.carriersOf(note).filter((i) => allowed[i] === 1);
      if (carriers.length > 0) {
        notes.push({ note, carriers, accord: null });
        for (const i of carriers) carriesNote[i] = 1;
        continue;
      }
      const accord = this.accordFor(note);
      const members = accord?.allMembers.filter((m) => allowed[m.index] === 1) ?? [];
      // An accord stands for the note only while at least two of its materials are allowed: one alone is not the accord.
      if (accord === undefined || members.length < 2) {
        unavailableNotes.push(note);
        continue;
      }
      notes.push({ note, carriers: [], accord: { name: accord.name, members } });
      for (const m of members) carriesNote[m.index] = 1;
    }
    // Plain loops, not TypedArray.from: this runs once per served formula, and .from's iterator allocates per element.
    const roles = new Array<CharacterRole | null>(n);
    const onCharacter = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const info = this.info[i]!;
      const role = wantedFamilies.has(info.family) ? 'asked' : carriesNote[i] === 1 ? 'note' : neighbourFamilies.has(info.family) ? 'neighbour' : info.blender ? 'blender' : null;
      roles[i] = role;
      onCharacter[i] = role === null ? 0 : 1;
    }
    const target = this.targetOf(brief, wantedFamilies, neighbourFamilies, notes, named);
    let squares = 0;
    for (let d = 0; d < target.length; d++) squares += target[d]! * target[d]!;
    const targetNorm = Math.sqrt(squares);
    // Profiles are unit vectors: the cosine is the dot product over the target's length.
    const affinity = new Float32Array(n);
    if (targetNorm > 0) for (let i = 0; i < n; i++) affinity[i] = this.space.dot(i, target) / targetNorm;
    return { wantedFamilies, neighbourFamilies, notes, unavailableNotes, carriesNote, onCharacter, roles, target, targetNorm, affinity };
  }

  /** A group of words spreads its weight over them: a family with twenty descriptors weighs no more than one with four. */
  private spreadVector(list: readonly string[], weight: number): Float64Array {
    return this.space.vector(list.map((w) => [w, weight / list.length] as const));
  }

  /** The spread vector of a convention's word list (a family's descriptors, a mood's, …), worked out once per list and weight. */
  private readonly listVectors = new WeakMap<readonly string[], Map<number, Float64Array>>();
  private conventionVector(list: readonly string[], weight: number): Float64Array {
    let byWeight = this.listVectors.get(list);
    if (byWeight === undefined) this.listVectors.set(list, (byWeight = new Map()));
    return remember(byWeight, weight, () => this.spreadVector(list, weight));
  }

  /** The spread vector of a named note's words, per note. */
  private readonly noteVectors = new Map<string, Float64Array | null>();

  /** The brief's target profile (docs/learning.md gives the weights). */
  private targetOf(brief: CreativeBrief, wanted: ReadonlySet<OdorFamily>, neighbours: ReadonlySet<OdorFamily>, notes: readonly NoteCarriers[], named: readonly string[]): Float64Array {
    const space = this.space;
    const target = new Float64Array(space.size);
    const add = (vector: Float64Array, scale: number) => {
      for (let d = 0; d < vector.length; d++) target[d]! += scale * vector[d]!;
    };
    const spread = (list: readonly string[], weight: number) => {
      if (list.length > 0) add(this.conventionVector(list, weight), 1);
    };
    for (const f of wanted) {
      target[space.familyIndex(f)]! += TARGET_WEIGHTS.family;
      spread(this.conventions.familyDescriptors[f], TARGET_WEIGHTS.familyWords);
    }
    for (const f of neighbours) target[space.familyIndex(f)]! += TARGET_WEIGHTS.neighbour;
    for (const note of named) {
      const vector = remember(this.noteVectors, note, () => {
        const list = words(note);
        return list.length === 0 ? null : this.spreadVector(list, TARGET_WEIGHTS.noteWords);
      });
      if (vector !== null) add(vector, 1);
    }
    for (const { carriers, accord } of notes) {
      // The note's own smell: the mean profile of its carriers (or of its accord, in parts).
      const members = accord?.members ?? carriers.map((index) => ({ index, parts: 1 }));
      const total = members.reduce((sum, m) => sum + m.parts, 0);
      for (const m of members) add(space.profiles[m.index]!, (TARGET_WEIGHTS.noteCarriers * m.parts) / total);
    }
    const lexicon = this.conventions.lexicon;
    for (const mood of brief.mood) spread(lexicon.moods[mood] ?? [], TARGET_WEIGHTS.mood);
    for (const season of brief.season) spread(lexicon.seasons[season] ?? [], TARGET_WEIGHTS.season);
    spread(lexicon.profiles[brief.targetProfile] ?? [], TARGET_WEIGHTS.profile);
    return target;
  }

  /** Reads a formula's character against the brief's (lines: palette index and % of the concentrate). */
  read(context: CharacterContext, lines: ReadonlyArray<{ readonly index: number; readonly pct: number }>): CharacterReading {
    let on = 0;
    const over: number[] = [];
    const profile = new Float64Array(this.space.size);
    const held = new Map<number, number>();
    for (const { index, pct } of lines) {
      if (context.onCharacter[index] === 1) on += pct;
      else if (pct > OFF_CHARACTER_LINE_PCT + 1e-9) over.push(index);
      this.space.accumulate(profile, index, pct);
      held.set(index, pct);
    }
    const notes = context.notes.map(({ note, carriers, accord }) => {
      const members = accord?.members.map((m) => m.index) ?? carriers;
      let heldPct = 0;
      let smelled = 0;
      for (const i of members) {
        const pct = held.get(i) ?? 0;
        heldPct += pct * this.info[i]!.impact;
        const cap = context.capPct?.[i] ?? this.info[i]!.maxUsePct;
        smelled += pct / Math.min(this.info[i]!.smellPct, NOTE_SMELL_SHARE_OF_CAP * cap);
      }
      // An accord is the note only with all its allowed members in the formula.
      const complete = accord === null || accord.members.every((m) => held.has(m.index));
      return { note, heldPct: Math.round(heldPct * 1000) / 1000, present: complete && smelled >= 1 - 1e-9, accord: accord?.name ?? null };
    });
    const fidelity = context.targetNorm === 0 ? 1 : cosine(profile, context.target);
    const hasCharacter = on >= CHARACTER_SHARE * 100 - 1e-9 && over.length === 0 && notes.every((n) => n.present);
    return { onCharacterPct: Math.round(on * 100) / 100, offCharacterOverLimit: over, notes, fidelity, hasCharacter };
  }
}

/** Caches of what a brief's words map to are bounded: past this many keys a cache starts over. */
const CACHE_KEYS = 4096;

/** `cache`'s value for `key`, computed and kept on first use (the cache starts over when full). */
function remember<K, V>(cache: Map<K, V>, key: K, compute: () => V): V {
  if (cache.has(key)) return cache.get(key)!;
  const value = compute();
  if (cache.size >= CACHE_KEYS) cache.clear();
  cache.set(key, value);
  return value;
}
