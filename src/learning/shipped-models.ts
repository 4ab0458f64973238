import { readFile } from 'node:fs/promises';
import { ErrorCodes, isFaiError } from '../errors/index.ts';
import type { CloudHub } from '../hub/index.ts';
import { POLICY_PINS, policyPinOf, type Pins, type PolicyPinName } from '../llm/index.ts';
import { PROJECT_ROOT } from '../system/index.ts';
import { storeCheckpointBytes } from './checkpoint.ts';

/**
 * The trained teacher and its distilled student ship in the repository (`models/`, reproduced by
 * `make train-default` from their seeds), pinned by CID in configs/model_pins.json. On start the
 * service stores a pinned checkpoint its hub lacks from the shipped file, so a fresh clone answers
 * POST /v1/formulas with no training step. A file whose CID is not the pin's is not stored as if it
 * were: the pin stays unavailable and the result says why.
 */
export const SHIPPED_MODELS_DIR = new URL('models/', PROJECT_ROOT);
export const SHIPPED_FILES: Readonly<Record<PolicyPinName, string>> = {
  'formulation-policy': 'formulation-teacher.ckpt',
  'formulation-teacher': 'formulation-teacher.ckpt',
  'formulation-student': 'formulation-student.ckpt',
};

export interface SeedResult {
  readonly pin: PolicyPinName;
  readonly cid: string;
  readonly status: 'present' | 'stored' | 'no_file' | 'mismatch';
  readonly detail?: string;
}

export async function seedShippedPolicies(hub: CloudHub, pins: Pins, dir: URL | string = SHIPPED_MODELS_DIR): Promise<SeedResult[]> {
  const results: SeedResult[] = [];
  for (const name of POLICY_PINS) {
    const pin = policyPinOf(pins, name);
    if (pin === undefined) continue;
    try {
      await hub.get(pin.cid);
      results.push({ pin: name, cid: pin.cid, status: 'present' });
      continue;
    } catch (error) {
      if (!isFaiError(error) || error.code !== ErrorCodes.NOT_FOUND) throw error;
    }
    const file = new URL(SHIPPED_FILES[name], dir);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch {
      results.push({ pin: name, cid: pin.cid, status: 'no_file', detail: `${file.pathname} is not there` });
      continue;
    }
    const record = await storeCheckpointBytes(hub, bytes, ['shipped']);
    if (record.cid === pin.cid) results.push({ pin: name, cid: pin.cid, status: 'stored' });
    else results.push({ pin: name, cid: pin.cid, status: 'mismatch', detail: `${file.pathname} is ${record.cid}, not the pinned ${pin.cid}: run make train-default, or pin ${record.cid}` });
  }
  return results;
}
