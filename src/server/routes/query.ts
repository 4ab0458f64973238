import { z } from 'zod';

/** For routes that take no query parameters: an unknown one is a 400 naming it, not silently ignored. */
export const NoQuery = z.object({}).strict();
