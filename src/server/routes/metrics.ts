import type { FastifyInstance } from 'fastify';
import { parseOrThrow } from '../../errors/index.ts';
import type { Metrics } from '../../metrics/index.ts';
import { NoQuery } from './query.ts';

export function registerMetricsRoutes(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', { config: { component: 'metrics' } }, async (request, reply) => {
    parseOrThrow(NoQuery, request.query, 'query');
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
