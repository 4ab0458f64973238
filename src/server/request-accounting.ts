import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/index.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The capability a route belongs to: the `component` of system_error_rate. */
    component?: string;
  }
}

/**
 * Counts every answered request: `system_requests_total{service="api"}` (hence `system_rps`; not
 * scrapes of /metrics nor /health probes), `system_operations_total{component}`,
 * `system_request_duration_seconds{component}` and, for 4xx/5xx,
 * `system_errors_total{component,error_type}` (hence `system_error_rate`).
 */
export function installRequestAccounting(app: FastifyInstance, metrics: Metrics): void {
  // The series exists from the start at 0 (probes and scrapes do not count): the first request is a step a rate sees.
  metrics.systemRequestsTotal.inc({ service: 'api' }, 0);
  // A synchronous hook (done callback): an async one costs a promise and its microtasks on every request.
  app.addHook('onResponse', (request, reply, done) => {
    const component = request.routeOptions.config.component ?? 'server';
    // system_rps is the service's traffic: Prometheus's scrapes and the health probes are not requests of it.
    if (component !== 'metrics' && component !== 'health') metrics.systemRequestsTotal.inc({ service: 'api' });
    metrics.systemOperationsTotal.inc({ component });
    metrics.systemRequestDurationSeconds.observe({ component }, reply.elapsedTime / 1000);
    const status = reply.statusCode;
    if (status >= 500) metrics.systemErrorsTotal.inc({ component, error_type: status === 503 ? 'unavailable' : status === 504 ? 'timeout' : 'server_error' });
    else if (status >= 400) metrics.systemErrorsTotal.inc({ component, error_type: 'client_error' });
    done();
  });
}
