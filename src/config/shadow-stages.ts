import { z } from 'zod';

/**
 * Shadow evaluation's stages and their sampling rates, as configuration reads them (SHADOW_STAGE,
 * SHADOW_RATES). Here, in the ground floor, so `config` depends on nothing above it; `shadow` keeps
 * the behaviour (sampling, the log, the schedule) and imports these.
 */
export const STAGES = ['development', 'staging', 'production', 'incident'] as const;
export type Stage = (typeof STAGES)[number];

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
