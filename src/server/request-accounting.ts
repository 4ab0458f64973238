import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler } from 'fastify';
import type { CounterSeries, HistogramObserver, Metrics } from '../metrics/index.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The capability a route belongs to: the `component` of system_error_rate. */
    component?: string;
  }
  interface FastifyRequest {
    /**
     * When the request's first hook ran, on the metrics' clock (ms, request-accounting.ts); undefined
     * before (an answer Fastify gives without running the hooks, such as a malformed URL's 400). Set by
     * that hook, not declared with decorateRequest: a decoration is a property every request is built
     * with, through a keyed store per decoration in Fastify's Request constructor.
     */
    startedAt?: number;
  }
}

export interface RequestAccounting {
  /** Starts a request's clock (from the root onRequest hook); returns its time. */
  start(request: FastifyRequest): number;
  /** Counts an answer no route and no hook gave (Fastify's framework errors) as the server's, once it is sent. */
  unrouted(request: FastifyRequest, reply: FastifyReply): void;
}

/** The series one component's answers move, found once (a request looks up no labels). */
interface ComponentSeries {
  readonly component: string;
  /** system_requests_total{service="api"}, or null for Prometheus's scrapes and the health probes (not the service's traffic). */
  readonly requests: CounterSeries | null;
  readonly operations: CounterSeries;
  readonly duration: HistogramObserver;
}

/**
 * Counts every answered request: `system_requests_total{service="api"}` (hence `system_rps`; not
 * scrapes of /metrics nor /health probes), `system_operations_total{component}`,
 * `system_request_duration_seconds{component}` and, for 4xx/5xx,
 * `system_errors_total{component,error_type}` (hence `system_error_rate`).
 *
 * A request is counted when its answer is handed to the connection (`onSend`: its status and headers
 * are final), and its duration runs from its first hook (`start`, called from the root onRequest hook,
 * app.ts) to then; a streamed answer's duration is the time to its first byte. Not `onResponse`: that
 * needs Fastify to listen for the end of every response ('finish' and 'error', added and removed),
 * which bare Fastify does not pay (make bench-http).
 *
 * Each route gets a hook of its own when it is added, holding its component's series: a request
 * reads no route options (Fastify builds that object on every read) and looks up no labels. Answers
 * no route took (404s) are counted by one root hook, as the `server`'s. Install before any route.
 *
 * Returns what the root onRequest hook calls for each request (`start`: the start of its clock, which
 * it returns), and what counts an answer given outside the hooks (`unrouted`: Fastify's framework
 * errors, app.ts), as the server's.
 */
export function installRequestAccounting(app: FastifyInstance, metrics: Metrics): RequestAccounting {
  // The series exists from the start at 0 (probes and scrapes do not count): the first request is a step a rate sees.
  metrics.systemRequestsTotal.inc({ service: 'api' }, 0);
  const api = metrics.systemRequestsTotal.seriesOf({ service: 'api' });
  const components = new Map<string, ComponentSeries>();
  const seriesOf = (component: string): ComponentSeries => {
    let series = components.get(component);
    if (series === undefined) {
      series = {
        component,
        // system_rps is the service's traffic: Prometheus's scrapes and the health probes are not requests of it.
        requests: component === 'metrics' || component === 'health' ? null : api,
        operations: metrics.systemOperationsTotal.seriesOf({ component }),
        duration: metrics.systemRequestDurationSeconds.seriesOf({ component }),
      };
      components.set(component, series);
    }
    return series;
  };
  // One clock for the duration and the windows: the metrics' (each window read its own before, one read per window).
  const now = metrics.now;
  const account = (series: ComponentSeries, request: FastifyRequest, reply: FastifyReply): void => {
    const at = now();
    series.requests?.inc(1, at);
    series.operations.inc(1, at);
    // A request that never reached the root onRequest hook (an answer Fastify gives before it) has no start: 0 s.
    const startedAt = request.startedAt;
    series.duration.observe(startedAt === undefined ? 0 : (at - startedAt) / 1000);
    const status = reply.statusCode;
    if (status >= 500) metrics.systemErrorsTotal.inc({ component: series.component, error_type: status === 503 ? 'unavailable' : status === 504 ? 'timeout' : 'server_error' });
    else if (status >= 400) metrics.systemErrorsTotal.inc({ component: series.component, error_type: 'client_error' });
  };
  // Synchronous hooks (done callback): an async one costs a promise and its microtasks on every request.
  app.addHook('onRoute', (route) => {
    const series = seriesOf(route.config?.component ?? 'server');
    const hook: onSendHookHandler = (request, reply, payload, done) => {
      account(series, request, reply);
      done(null, payload);
    };
    route.onSend = route.onSend === undefined ? [hook] : [...(Array.isArray(route.onSend) ? route.onSend : [route.onSend]), hook];
  });
  const unrouted = seriesOf('server');
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.is404) account(unrouted, request, reply);
    done(null, payload);
  });
  return {
    start: (request) => (request.startedAt = now()),
    unrouted: (request, reply) => account(unrouted, request, reply),
  };
}
