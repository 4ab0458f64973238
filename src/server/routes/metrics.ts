import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseOrThrow } from '../../errors/index.ts';
import type { Metrics } from '../../metrics/index.ts';

const NoQuery = z.object({}).strict();

export function registerMetricsRoutes(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', { config: { component: 'metrics' } }, async (request, reply) => {
    parseOrThrow(NoQuery, request.query, 'query');
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
