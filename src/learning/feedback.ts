import { z } from 'zod';
import { FeedbackSchema, type CloudHub } from '../hub/index.ts';

/**
 * Customer feedback replayed as a reward signal (`fai train --from-feedback`).
 *
 * Each stored feedback names the recipe it rates (the recipe POST /v1/formulas stored and returned as
 * `recipeCid`). A rating r of 1–5 scores s = (r − 3) / 2 ∈ [−1, 1]; every material of the rated recipe
 * gets s, and every material the feedback's `dislikedAspects` names (by material name) gets −1. A
 * material's preference is the mean of its scores shrunk toward 0 by its count n, × n / (n + 1): one
 * rating moves it half-way, ten almost fully. The environment adds FEEDBACK_WEIGHT × Σ share × preference
 * to the reward, so a policy trained on it uses liked materials more and disliked ones less.
 */
export interface FeedbackReplay {
  /** Material name → preference in [−1, 1]. */
  readonly preferences: Readonly<Record<string, number>>;
  /** Feedback records that contributed. */
  readonly used: number;
  /** Feedback records that could not be used, and why (missing recipe, not a served recipe, invalid). */
  readonly skipped: ReadonlyArray<{ cid: string; reason: string }>;
}

/** The part of a served recipe the replay reads: which materials it contained. */
const ServedRecipe = z.object({ formula: z.array(z.object({ material: z.string().min(1) })).min(1) });

/** Reads up to `limit` feedback records from the hub, with the recipes they rate, into per-material preferences. */
export async function replayFeedback(hub: CloudHub, limit = 10_000): Promise<FeedbackReplay> {
  const scores = new Map<string, { sum: number; n: number }>();
  const add = (material: string, score: number) => {
    const entry = scores.get(material) ?? { sum: 0, n: 0 };
    entry.sum += score;
    entry.n += 1;
    scores.set(material, entry);
  };
  const skipped: Array<{ cid: string; reason: string }> = [];
  let used = 0;
  for (const record of await hub.list('feedback', limit)) {
    try {
      const feedback = FeedbackSchema.safeParse((await hub.retrieve(record.cid)).value);
      if (!feedback.success) {
        skipped.push({ cid: record.cid, reason: `not a valid feedback: ${feedback.error.issues[0]?.message ?? 'invalid'}` });
        continue;
      }
      const recipe = ServedRecipe.safeParse((await hub.retrieve(feedback.data.recipeCid)).value);
      if (!recipe.success) {
        skipped.push({ cid: record.cid, reason: `recipe ${feedback.data.recipeCid} is not a served formula (no formula[].material)` });
        continue;
      }
      const score = (feedback.data.rating - 3) / 2;
      const materials = [...new Set(recipe.data.formula.map((line) => line.material))];
      for (const material of materials) add(material, score);
      const disliked = feedback.data.dislikedAspects.map((aspect) => aspect.toLowerCase());
      for (const material of materials) if (disliked.some((aspect) => aspect.includes(material.toLowerCase()))) add(material, -1);
      used++;
    } catch (error) {
      // A feedback or recipe that expired or fails its CID check is skipped, never trusted.
      skipped.push({ cid: record.cid, reason: (error as Error).message });
    }
  }
  const preferences: Record<string, number> = {};
  for (const [material, { sum, n }] of [...scores].sort(([a], [b]) => a.localeCompare(b))) {
    preferences[material] = Math.round(((sum / n) * n) / (n + 1) * 1000) / 1000;
  }
  return { preferences, used, skipped };
}
