export { loadPalette, ODOR_FAMILIES, PALETTE_CSV, type NotePosition, type OdorFamily, type PaletteMaterial } from './palette.ts';
export { loadUsage, USAGE_CSV, type UsageLevel } from './usage.ts';
