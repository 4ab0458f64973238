import { createHash } from 'node:crypto';
import { z } from 'zod';
import { STAGES, type Stage } from './log.ts';

/** The share of production requests each stage shadows (the operations guide's table). */
export const DEFAULT_RATES: Readonly<Record<Stage, number>> = { development: 1, staging: 0.5, production: 0.05, incident: 0.1 };

/**
 * Parses SHADOW_RATES, e.g. `production=0.02,incident=0.2`: the stages it names get those rates,
 * the others keep theirs. Each rate is a share in [0, 1].
 */
export const RatesSchema = z
  .string()
  .trim()
  .transform((text, context) => {
    const rates: Record<Stage, number> = { ...DEFAULT_RATES };
    if (text === '') return rates;
    for (const part of text.split(',')) {
      const [stage, value, ...rest] = part.split('=').map((p) => p.trim());
      const rate = Number(value);
      if (!(STAGES as readonly string[]).includes(stage ?? '') || rest.length > 0 || value === undefined || value === '' || !(rate >= 0 && rate <= 1)) {
        context.addIssue({ code: 'custom', message: `"${part}" is not stage=rate with a stage of ${STAGES.join(', ')} and a rate from 0 to 1` });
        return z.NEVER;
      }
      rates[stage as Stage] = rate;
    }
    return rates;
  });

/**
 * Whether a request is shadowed at `rate`: decided by a hash of its request id, so a retried request
 * (same x-request-id) is in or out again, and ids spread evenly whatever their form.
 */
export function sampled(requestId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  const digest = createHash('sha256').update(requestId).digest();
  return digest.readUInt32BE(0) / 2 ** 32 < rate;
}
