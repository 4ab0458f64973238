import { z } from 'zod';
import { isCid } from './blocks.ts';

/** Customer feedback on a recipe, validated at the edge before it is stored. */
export const FeedbackSchema = z
  .object({
    recipeCid: z.string().refine(isCid, 'must be the CID of a stored recipe'),
    rating: z.number().int('must be a whole number').min(1, 'must be 1 to 5').max(5, 'must be 1 to 5'),
    text: z.string().max(4000, 'is longer than 4000 characters').default(''),
    preferredNotes: z.array(z.string().min(1).max(100)).max(30).default([]),
    dislikedAspects: z.array(z.string().min(1).max(200)).max(30).default([]),
    userId: z.string().min(1).max(128).optional(),
  })
  .strict();

export type Feedback = z.infer<typeof FeedbackSchema>;
