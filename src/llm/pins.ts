import { z } from 'zod';
import { writeFileAtomic } from '../system/index.ts';
import { readJsonFile } from '../config/index.ts';
import { isCid } from '../hub/index.ts';

/**
 * Model pins: `configs/model_pins.json`, an object model → pin (DESIGN.md). An LLM's pin is its
 * version, e.g. `"qwen": "2.5.1"`; the formulation policy's pin is a version and the Cloud Hub CID
 * of that version's checkpoint, `"formulation-policy": {"version": "1.0.0", "cid": "bafy…"}`.
 * The brief layer and POST /v1/formulas serve the pinned versions; pin-update and rollback change them.
 */
export const PIN_VERSION = /^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;
/** The pin POST /v1/formulas serves. */
export const POLICY_PIN = 'formulation-policy';
/** Formulation policies are pinned to a checkpoint CID: production (`formulation-policy`) and the shadow teacher and student. */
export const POLICY_PINS = [POLICY_PIN, 'formulation-teacher', 'formulation-student'] as const;
export type PolicyPinName = (typeof POLICY_PINS)[number];
export const isPolicyPinName = (name: string): name is PolicyPinName => (POLICY_PINS as readonly string[]).includes(name);

const Version = z.string().regex(PIN_VERSION, 'must be a version like 2.5.1');
export const PolicyPinSchema = z.object({ version: Version, cid: z.string().refine(isCid, 'must be the CID of a checkpoint in the Cloud Hub') }).strict();
export const PinsSchema = z
  .record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'model names are lower-case words'), z.union([Version, PolicyPinSchema]))
  .superRefine((pins, context) => {
    for (const [model, pin] of Object.entries(pins)) {
      if (isPolicyPinName(model) && typeof pin === 'string') context.addIssue({ code: 'custom', path: [model], message: 'a policy pin is {"version": ..., "cid": ...}: a version alone does not say which checkpoint' });
      if (!isPolicyPinName(model) && typeof pin !== 'string') context.addIssue({ code: 'custom', path: [model], message: `only ${POLICY_PINS.join(', ')} are pinned to a CID; a model's pin is its version` });
    }
  });
export type Pins = z.infer<typeof PinsSchema>;
export type Pin = Pins[string];
export type PolicyPin = z.infer<typeof PolicyPinSchema>;

export const DEFAULT_PINS_FILE = 'configs/model_pins.json';

/** The version a pin names, whichever its form. */
export const pinVersion = (pin: Pin | undefined): string | undefined => (pin === undefined || typeof pin === 'string' ? pin : pin.version);
/** A pin as one line of text: `2.5.1`, or `1.0.0 (bafy…)` for a policy. */
export const pinText = (pin: Pin | undefined): string => (pin === undefined ? '—' : typeof pin === 'string' ? pin : `${pin.version} (${pin.cid})`);
export const samePin = (a: Pin | undefined, b: Pin | undefined): boolean => pinText(a) === pinText(b);

/** A policy's pin (the production policy's by default), when the pins name one. */
export function policyPinOf(pins: Pins, name: PolicyPinName = POLICY_PIN): PolicyPin | undefined {
  const pin = pins[name];
  return typeof pin === 'object' ? pin : undefined;
}

export function readPins(file: string): Promise<Pins> {
  return readJsonFile(file, PinsSchema, 'pins', { field: 'PINS_FILE' });
}

/** Written to a temporary file and renamed over the old one: a reader sees the old pins or the new, never half. */
export async function writePins(file: string, pins: Pins): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(pins, null, 2)}\n`);
}
