export { loadPalette, ODOR_FAMILIES, PALETTE_CSV, type NotePosition, type OdorFamily, type PaletteMaterial } from './palette.ts';
