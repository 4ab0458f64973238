export { loadPalette, ODOR_FAMILIES, ODOR_STRENGTHS, PALETTE_CSV, type NotePosition, type OdorFamily, type OdorStrength, type PaletteMaterial } from './palette.ts';
export { loadUsage, USAGE_CSV, type UsageLevel } from './usage.ts';
export { loadProductDosage, PRODUCT_DOSAGE_CSV, productDosages, type ProductDosage } from './dosage.ts';
export { stem, wordCarries, words } from './words.ts';
export { cosine, impactOf, OdourSpace, POSITION_BY_FAMILY, positionOf, STRENGTH_IMPACT, TENACITY_IMPACT, type Position } from './profile.ts';
export { conventions, wheelNeighbours, type Accord, type Conventions, type MoodLexicon, type Wheel } from './conventions.ts';
