import { z } from 'zod';
import { ODOR_FAMILIES } from '../perfumery/index.ts';

/**
 * The CreativeBrief: what a customer's words become before a formula is made. Every model — the
 * LLM slots and the embedded local model — must produce exactly this; output that does not
 * validate never reaches a caller.
 */
export const MOODS = ['fresh', 'light', 'warm', 'sweet', 'romantic', 'clean', 'calm', 'sensual', 'cozy', 'elegant', 'energetic', 'mysterious'] as const;
export const SEASONS = ['spring', 'summer', 'autumn', 'winter'] as const;
export const BUDGET_TIERS = ['low', 'mid', 'high', 'luxury'] as const;
export const TARGET_PROFILES = ['feminine', 'masculine', 'unisex'] as const;
/** The odour families of the materials palette: one list, owned by src/perfumery. */
export const FAMILIES = ODOR_FAMILIES;

/**
 * Product types a customer names, each with its IFRA category (data/ifra-categories.csv). How much
 * concentrate each usually holds is src/perfumery's product-dosage.csv (a test keeps the two
 * categories the same).
 */
export const PRODUCT_CATEGORIES = {
  EDP: { ifraCategory: '4' },
  EDT: { ifraCategory: '4' },
  PARFUM: { ifraCategory: '4' },
  EDC: { ifraCategory: '4' },
  BODY_MIST: { ifraCategory: '4' },
  HAIR_MIST: { ifraCategory: '7B' },
  BODY_LOTION: { ifraCategory: '5A' },
  HAND_CREAM: { ifraCategory: '5C' },
  SHOWER_GEL: { ifraCategory: '9' },
  SHAMPOO: { ifraCategory: '7A' },
  CANDLE: { ifraCategory: '12' },
  DIFFUSER: { ifraCategory: '12' },
} as const satisfies Record<string, { ifraCategory: string }>;
export type ProductCategory = keyof typeof PRODUCT_CATEGORIES;
const PRODUCT_KEYS = Object.keys(PRODUCT_CATEGORIES) as [ProductCategory, ...ProductCategory[]];

const term = z.string().trim().min(1).max(60);
const Position = z.array(term).max(12).default([]);

export const CreativeBriefSchema = z
  .object({
    language: z.enum(['ko', 'en']),
    mood: z.array(z.enum(MOODS)).max(6).default([]),
    season: z.array(z.enum(SEASONS)).max(4).default([]),
    /** Wanted odour families and notes by position in the pyramid. */
    notesPreference: z
      .object({
        families: z.array(z.enum(FAMILIES)).max(8).default([]),
        top: Position,
        heart: Position,
        base: Position,
      })
      .strict(),
    /** Notes or materials the customer does not want, in English. */
    forbiddenIngredients: z.array(term).max(20).default([]),
    budgetTier: z.enum(BUDGET_TIERS).default('mid'),
    targetProfile: z.enum(TARGET_PROFILES).default('unisex'),
    /** Free constraints: longevity, intensity, sensitivity. */
    constraints: z.array(z.string().trim().min(1).max(120)).max(10).default([]),
    productCategory: z.enum(PRODUCT_KEYS).default('EDP'),
    /** Images and associations to carry into the formula (at most 8). */
    creativeHints: z.array(z.string().trim().min(1).max(120)).max(8).default([]),
  })
  .strict();

export type CreativeBrief = z.infer<typeof CreativeBriefSchema>;

/** The schema as JSON Schema, for LLM prompts and for docs/brief.md. */
export function briefJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(CreativeBriefSchema, { io: 'input' }) as Record<string, unknown>;
}
