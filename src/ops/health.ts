/**
 * Component health: each capability contributes checks; the service is
 * `unhealthy` (HTTP 503) when a required component is down, `degraded` when an
 * optional one is or a component answers with problems, `healthy` otherwise.
 */
/** `unknown`: configured, but nothing probes it yet; `degraded`: it answers, with problems its detail names. */
export type ComponentStatus = 'up' | 'degraded' | 'down' | 'not_configured' | 'unknown';

export interface ComponentHealth {
  readonly status: ComponentStatus;
  readonly required: boolean;
  readonly latencyMs?: number;
  readonly detail?: string;
}

export interface HealthCheck {
  readonly name: string;
  readonly required: boolean;
  /** Resolves with the component's state; a throw or a timeout counts as `down`. */
  check(): Promise<{ status: ComponentStatus; detail?: string }>;
}

export type ServiceStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface HealthReport {
  readonly status: ServiceStatus;
  readonly services: Readonly<Record<string, ComponentHealth>>;
  readonly timestamp: string;
}

async function runOne(check: HealthCheck, timeoutMs: number): Promise<ComponentHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const result = await Promise.race([check.check(), timeout]);
    const latencyMs = Math.round((performance.now() - started) * 100) / 100;
    return { ...result, required: check.required, latencyMs };
  } catch (error) {
    const latencyMs = Math.round((performance.now() - started) * 100) / 100;
    return { status: 'down', required: check.required, latencyMs, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

export async function runHealthChecks(checks: readonly HealthCheck[], timeoutMs: number, now: () => number = Date.now): Promise<HealthReport> {
  const results = await Promise.all(checks.map((check) => runOne(check, timeoutMs)));
  const services: Record<string, ComponentHealth> = {};
  let status: ServiceStatus = 'healthy';
  checks.forEach((check, i) => {
    const result = results[i]!;
    services[check.name] = result;
    if (result.status === 'down') status = check.required ? 'unhealthy' : status === 'unhealthy' ? status : 'degraded';
    else if (result.status === 'degraded' && status === 'healthy') status = 'degraded';
  });
  return { status, services, timestamp: new Date(now()).toISOString() };
}
