import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../../errors/index.ts';
import { TrainingSpecSchema, type TrainingJobs } from '../../learning/index.ts';

const IdParams = z.object({ id: z.string().min(1).max(100) });
const ListQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) }).strict();

/**
 * Training off the request path: POST queues a job and answers 202 at once; the job runs on the
 * service's worker thread, or (REDIS_URL) on whichever `fai worker` takes it from the BullMQ queue.
 */
export function registerTrainingRoutes(app: FastifyInstance, jobs: () => TrainingJobs): void {
  const config = { component: 'learning' };
  app.get('/v1/training/jobs', { config }, async (request) => {
    const { limit } = parseOrThrow(ListQuery, request.query, 'query');
    return { runner: jobs().runner, jobs: await jobs().list(limit) };
  });
  app.get('/v1/training/jobs/:id', { config }, async (request) => {
    const { id } = parseOrThrow(IdParams, request.params, 'params');
    const job = await jobs().get(id);
    if (job === undefined) throw new FaiError(ErrorCodes.NOT_FOUND, `params.id: no training job ${id} (finished jobs are kept: the last 100 on the thread runner, 200 in the queue)`, { field: 'params.id' });
    return job;
  });
}

/** Submitting a job is an operator route: training takes CPU beside the serving path, and its pending jobs are capped. */
export function registerTrainingOperatorRoutes(app: FastifyInstance, jobs: () => TrainingJobs): void {
  const config = { component: 'learning' };
  app.post('/v1/training/jobs', { config, bodyLimit: 16 * 1024 }, async (request, reply) => {
    const spec = parseOrThrow(TrainingSpecSchema, request.body, 'body');
    const job = await jobs().submit(spec);
    return reply.status(202).header('location', `/v1/training/jobs/${job.id}`).send(job);
  });
}
