import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../../errors/index.ts';
import { DATA_TYPES, FeedbackSchema, type CloudHub } from '../../hub/index.ts';

const Tags = z
  .string()
  .optional()
  .transform((text) => (text === undefined || text === '' ? [] : text.split(',').map((tag) => tag.trim())))
  .pipe(z.array(z.string().min(1, 'an empty tag').max(64, 'a tag longer than 64 characters')).max(16, 'more than 16 tags'));
const TagsQuery = z.object({ tags: Tags }).strict();
const CidParams = z.object({ cid: z.string().min(1).max(200) });
const ListQuery = z
  .object({ type: z.enum(DATA_TYPES, { error: `must be one of ${DATA_TYPES.join(', ')}` }), limit: z.coerce.number().int().min(1).max(1000).default(100) })
  .strict();
const RecipeBody = z.record(z.string(), z.unknown(), { error: 'must be a JSON object' });

export interface HubRouteOptions {
  hub: CloudHub;
  maxCheckpointBytes: number;
}

/** The Cloud Hub over HTTP, reads: public; every route validates its input and counts against the `hub` component. */
export function registerHubRoutes(app: FastifyInstance, hub: CloudHub): void {
  const config = { component: 'hub' };

  app.get('/v1/hub/objects', { config }, async (request) => {
    const { type, limit } = parseOrThrow(ListQuery, request.query, 'query');
    return { objects: await hub.list(type, limit) };
  });

  app.get('/v1/hub/objects/:cid', { config }, async (request, reply) => {
    const { cid } = parseOrThrow(CidParams, request.params, 'params');
    const retrieved = await hub.retrieve(cid);
    if (retrieved.bytes !== undefined) {
      return reply
        .type('application/octet-stream')
        .header('x-fai-cid', retrieved.record.cid)
        .header('x-fai-checksum-sha256', retrieved.record.checksum)
        .send(Buffer.from(retrieved.bytes.buffer, retrieved.bytes.byteOffset, retrieved.bytes.byteLength));
    }
    return { record: retrieved.record, data: retrieved.value };
  });
}

/**
 * The Cloud Hub's writes (stores, pins, gc): operator routes. A checkpoint is streamed into the
 * block store as it arrives (UnixFS chunks written to disk one by one): an upload of the largest
 * allowed size holds one chunk in memory, not the whole file.
 */
export function registerHubOperatorRoutes(app: FastifyInstance, options: HubRouteOptions): void {
  const { hub } = options;
  const config = { component: 'hub' };

  app.register(async (scope) => {
    // Checkpoints arrive as raw bytes, handed to the route as the request stream; only this scope reads them.
    scope.addContentTypeParser('application/octet-stream', (request, payload, done) => {
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxCheckpointBytes) return done(tooLarge(options.maxCheckpointBytes), undefined);
      done(null, payload);
    });

    scope.post('/v1/hub/recipes', { config }, async (request, reply) => {
      const { tags } = parseOrThrow(TagsQuery, request.query, 'query');
      const recipe = parseOrThrow(RecipeBody, request.body, 'body');
      return reply.status(201).send(await hub.storeJson('recipe', recipe, tags));
    });

    scope.post('/v1/hub/feedback', { config }, async (request, reply) => {
      const { tags } = parseOrThrow(TagsQuery, request.query, 'query');
      const feedback = parseOrThrow(FeedbackSchema, request.body, 'body');
      return reply.status(201).send(await hub.storeJson('feedback', feedback, tags));
    });

    scope.post('/v1/hub/checkpoints', { config }, async (request, reply) => {
      const { tags } = parseOrThrow(TagsQuery, request.query, 'query');
      const stream = parseOrThrow(z.instanceof(Readable, { error: 'must be the checkpoint bytes, sent as application/octet-stream' }), request.body, 'body');
      return reply.status(201).send(await hub.storeBytes(limitBytes(stream, options.maxCheckpointBytes), tags));
    });

    scope.put('/v1/hub/objects/:cid/pin', { config }, async (request) => {
      const { cid } = parseOrThrow(CidParams, request.params, 'params');
      return hub.pin(cid);
    });

    scope.delete('/v1/hub/objects/:cid/pin', { config }, async (request) => {
      const { cid } = parseOrThrow(CidParams, request.params, 'params');
      return hub.unpin(cid);
    });

    scope.post('/v1/hub/gc', { config }, async () => hub.gc());
  });
}

const tooLarge = (limit: number) => new FaiError(ErrorCodes.BODY_TOO_LARGE, `body: larger than the ${limit} byte limit (HUB_MAX_CHECKPOINT_MB)`, { field: 'body' });

/** The stream's chunks, failing with 413 once more than `limit` bytes came (a client may send no content-length, or a wrong one). */
async function* limitBytes(stream: AsyncIterable<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.byteLength;
    if (total > limit) throw tooLarge(limit);
    yield chunk;
  }
}
