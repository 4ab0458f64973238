import { rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { readJsonFile } from '../config/index.ts';

/**
 * Model pins: `configs/model_pins.json`, a flat object model → version (DESIGN.md), e.g.
 * `{"qwen": "2.5.1", "mistral": "0.3.1", "llama": "3.1.1"}`. The brief layer serves the pinned
 * versions; the pin-update and rollback runbooks change them.
 */
export const PIN_VERSION = /^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;
export const PinsSchema = z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'model names are lower-case words'), z.string().regex(PIN_VERSION, 'must be a version like 2.5.1'));
export type Pins = z.infer<typeof PinsSchema>;

export const DEFAULT_PINS_FILE = 'configs/model_pins.json';

export function readPins(file: string): Promise<Pins> {
  return readJsonFile(file, PinsSchema, 'pins', { field: 'PINS_FILE' });
}

/** Written to a temporary file and renamed over the old one: a reader sees the old pins or the new, never half. */
export async function writePins(file: string, pins: Pins): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(pins, null, 2)}\n`);
  await rename(temporary, file);
}
