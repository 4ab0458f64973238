import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Metrics } from '../../metrics/index.ts';
import { errorResponses } from '../openapi.ts';
import { NoQuery } from './query.ts';

export function registerMetricsRoutes(app: FastifyInstance, metrics: Metrics): void {
  const schema = {
    summary: 'Prometheus metrics (text exposition format 0.0.4)',
    tags: ['operations'],
    querystring: NoQuery,
    response: { 200: { description: 'Every metric family of the catalogue', content: { 'text/plain': { schema: z.string() } } }, ...errorResponses() },
  };
  app.get('/metrics', { config: { component: 'metrics' }, schema }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
