import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { TrainingSpecSchema, type TrainingJobs } from '../../learning/index.ts';
import { errorResponses, OPERATOR_SECURITY, type ZodRequests } from '../openapi.ts';

const IdParams = z.object({ id: z.string().min(1).max(100) });
const ListQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) }).strict();

/**
 * Training off the request path: POST queues a job and answers 202 at once; the job runs on the
 * service's worker thread, or (REDIS_URL) on whichever `fai worker` takes it from the BullMQ queue.
 */
const Runner = z.enum(['thread', 'queue']);
const TrainingJobSchema = z.looseObject({
  id: z.string(),
  state: z.string(),
  runner: Runner,
  spec: z.looseObject({}),
  progress: z.object({ episodes: z.number(), total: z.number(), ma100: z.number(), ma1000: z.number() }).nullable(),
  checkpointCid: z.string().optional(),
  teacherCheckpointCid: z.string().optional(),
  error: z.string().optional(),
  createdAt: z.string(),
  finishedAt: z.string().optional(),
});

export function registerTrainingRoutes(app: FastifyInstance, jobs: () => TrainingJobs): void {
  const api = app.withTypeProvider<ZodRequests>();
  const config = { component: 'learning' };
  const tags = ['training'];
  const listSchema = { summary: 'Training jobs, newest first', tags, querystring: ListQuery, response: { 200: z.object({ runner: Runner, jobs: z.array(TrainingJobSchema) }), ...errorResponses(503) } };
  api.get('/v1/training/jobs', { config, schema: listSchema }, async (request) => ({ runner: jobs().runner, jobs: await jobs().list(request.query.limit) }));
  const getSchema = { summary: 'One training job: state, progress, summary and checkpoint CID', tags, params: IdParams, response: { 200: TrainingJobSchema, ...errorResponses(404, 503) } };
  api.get('/v1/training/jobs/:id', { config, schema: getSchema }, async (request) => {
    const { id } = request.params;
    const job = await jobs().get(id);
    if (job === undefined) throw new FaiError(ErrorCodes.NOT_FOUND, `params.id: no training job ${id} (finished jobs are kept: the last 100 on the thread runner, 200 in the queue)`, { field: 'params.id' });
    return job;
  });
}

/** Submitting a job is an operator route: training takes CPU beside the serving path, and its pending jobs are capped. */
export function registerTrainingOperatorRoutes(app: FastifyInstance, jobs: () => TrainingJobs): void {
  const api = app.withTypeProvider<ZodRequests>();
  const config = { component: 'learning' };
  const schema = {
    summary: 'Queue a training job (answers 202 at once; Location names the job)',
    tags: ['training'],
    security: OPERATOR_SECURITY,
    body: TrainingSpecSchema,
    response: { 202: TrainingJobSchema, ...errorResponses(401, 413, 415, 503) },
  };
  api.post('/v1/training/jobs', { config, bodyLimit: 16 * 1024, schema }, async (request, reply) => {
    const job = await jobs().submit(request.body);
    return reply.status(202).header('location', `/v1/training/jobs/${job.id}`).send(job);
  });
}
