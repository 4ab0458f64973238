import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../../errors/index.ts';
import { DATA_TYPES, FeedbackSchema, ObjectRecordSchema, type CloudHub } from '../../hub/index.ts';
import { errorResponses, OPERATOR_SECURITY, type ZodRequests } from '../openapi.ts';

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
/** A checkpoint upload: the request stream (the octet-stream parser below hands it over unread). */
const CheckpointBody = z
  .instanceof(Readable, { error: 'must be the checkpoint bytes, sent as application/octet-stream' })
  .meta({ type: 'string', contentMediaType: 'application/octet-stream', description: 'The checkpoint file (at most HUB_MAX_CHECKPOINT_MB)' });
const BytesSchema = z.string().meta({ contentMediaType: 'application/octet-stream' });
const RetrievedSchema = z.object({ record: ObjectRecordSchema, data: z.unknown() });
const GcSchema = z.object({ kept: z.number().int(), removed: z.number().int(), spared: z.number().int(), tempRemoved: z.number().int() });
const tags = ['hub'];

export interface HubRouteOptions {
  hub: CloudHub;
  maxCheckpointBytes: number;
}

/** The Cloud Hub over HTTP, reads: public; every route validates its input and counts against the `hub` component. */
export function registerHubRoutes(app: FastifyInstance, hub: CloudHub): void {
  const api = app.withTypeProvider<ZodRequests>();
  const config = { component: 'hub' };

  const listSchema = { summary: 'Stored objects of one data type, newest first', tags, querystring: ListQuery, response: { 200: z.object({ objects: z.array(ObjectRecordSchema) }), ...errorResponses(503) } };
  api.get('/v1/hub/objects', { config, schema: listSchema }, async (request) => ({ objects: await hub.list(request.query.type, request.query.limit) }));

  const getSchema = {
    summary: 'One object by CID, verified: a record and its JSON, or a checkpoint\'s bytes',
    tags,
    params: CidParams,
    response: {
      200: { description: 'The object', content: { 'application/json': { schema: RetrievedSchema }, 'application/octet-stream': { schema: BytesSchema } } },
      ...errorResponses(404, 503),
    },
  };
  api.get('/v1/hub/objects/:cid', { config, schema: getSchema }, async (request, reply) => {
    const { cid } = request.params;
    // A checkpoint streams from the block store with backpressure (a slow reader holds one block, not
    // the object); a client that goes away destroys the stream, which stops the reads. The first block
    // is read before the answer starts, so a missing or corrupt root is still a clean error status.
    const restored = await hub.retrieveStream(cid);
    if ('content' in restored) {
      const first = await restored.content.next();
      const rest = restored.content;
      const body = Readable.from(
        (async function* () {
          if (first.done !== true) yield first.value;
          yield* rest;
        })(),
        { objectMode: false, highWaterMark: 64 * 1024 },
      );
      return reply
        .type('application/octet-stream')
        .header('content-length', String(restored.record.size))
        .header('x-fai-cid', restored.record.cid)
        .header('x-fai-checksum-sha256', restored.record.checksum)
        .send(body);
    }
    return { record: restored.record, data: restored.value };
  });
}

/**
 * The Cloud Hub's writes (stores, pins, gc): operator routes. A checkpoint is streamed into the
 * block store as it arrives (UnixFS chunks written to disk one by one): an upload of the largest
 * allowed size holds one chunk in memory, not the whole file.
 */
export function registerHubOperatorRoutes(app: FastifyInstance, options: HubRouteOptions): void {
  const { hub } = options;
  const security = OPERATOR_SECURITY;
  const stored = { 201: ObjectRecordSchema, ...errorResponses(401, 413, 415, 503, 507) };
  const config = { component: 'hub' };

  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodRequests>();
    // Checkpoints arrive as raw bytes, handed to the route as the request stream; only this scope reads them.
    scope.addContentTypeParser('application/octet-stream', (request, payload, done) => {
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxCheckpointBytes) return done(tooLarge(options.maxCheckpointBytes), undefined);
      done(null, payload);
    });

    const recipeSchema = { summary: 'Store a recipe (any JSON object) as dag-json; answers its record', tags, security, querystring: TagsQuery, body: RecipeBody, response: stored };
    scope.post('/v1/hub/recipes', { config, schema: recipeSchema }, async (request, reply) => reply.status(201).send(await hub.storeJson('recipe', request.body, request.query.tags)));

    const feedbackSchema = { summary: "Store a customer's feedback on a recipe", tags, security, querystring: TagsQuery, body: FeedbackSchema, response: stored };
    scope.post('/v1/hub/feedback', { config, schema: feedbackSchema }, async (request, reply) => reply.status(201).send(await hub.storeJson('feedback', request.body, request.query.tags)));

    const checkpointSchema = {
      summary: 'Store a checkpoint, streamed as UnixFS (application/octet-stream)',
      tags,
      security,
      querystring: TagsQuery,
      body: { content: { 'application/octet-stream': { schema: CheckpointBody } } },
      response: stored,
    };
    scope.post('/v1/hub/checkpoints', { config, schema: checkpointSchema }, async (request, reply) => {
      // Validated per content type: a JSON body reaches the handler unvalidated, and is refused here.
      const stream = parseOrThrow(CheckpointBody, request.body, 'body');
      return reply.status(201).send(await hub.storeBytes(limitBytes(stream, options.maxCheckpointBytes), request.query.tags));
    });

    const pinSchema = (summary: string) => ({ summary, tags, security, params: CidParams, response: { 200: ObjectRecordSchema, ...errorResponses(401, 404, 503) } });
    scope.put('/v1/hub/objects/:cid/pin', { config, schema: pinSchema('Pin an object: kept by gc and never expired') }, async (request) => hub.pin(request.params.cid));
    scope.delete('/v1/hub/objects/:cid/pin', { config, schema: pinSchema('Unpin an object') }, async (request) => hub.unpin(request.params.cid));

    const gcSchema = { summary: 'Remove blocks no record reaches (recent writes are spared for HUB_GC_GRACE_SECONDS)', tags, security, response: { 200: GcSchema, ...errorResponses(401, 503) } };
    scope.post('/v1/hub/gc', { config, schema: gcSchema }, async () => hub.gc());
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
