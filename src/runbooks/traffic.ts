import { operatorHeaders } from '../config/index.ts';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { userInfo } from 'node:os';
import { openPins } from './pins.ts';
import { requirePart, servingUrls, type Deployment } from './deployment.ts';
import { analyzeCanary, DEFAULT_CRITERIA } from '../canary/index.ts';
import { ReleaseHistory } from './releases.ts';
import type { Plan, Runbook, Step } from './engine.ts';
import { NginxControl, parseWeights, renderUpstream, type Weights } from './nginx.ts';

/** Share tolerance when verifying a split: ±5 percentage points over the sampled requests. */
export const SPLIT_TOLERANCE = 0.05;

/** How long a split's verification samples before it gives up. */
const VERIFY_WINDOW_MS = 10_000;

/**
 * A plan that moves nginx to `target` weights: render from the template, `nginx -t` a copy, then
 * install and reload; verified by sending requests through nginx and counting who answered
 * (instances answer with `x-fai-instance: stable|canary`, their WORKER_ID). Undo puts the previous
 * upstream file back and reloads.
 */
export async function planWeights(deployment: Deployment, target: Weights, samples: number): Promise<Plan & { current: Weights }> {
  const nginx = new NginxControl(requirePart(deployment.nginx, 'nginx'));
  const instances = requirePart(deployment.instances, 'instances');
  const live = await nginx.readLive();
  const current = parseWeights(live, instances);
  const candidate = renderUpstream(await nginx.template(), instances, target);
  const total = target.stable + target.canary;
  if (total === 0) throw new FaiError(ErrorCodes.VALIDATION, 'weights: at least one instance must take traffic', { field: 'weights' });
  const change = `nginx upstream: stable ${current.stable} → ${target.stable}${target.stable === 0 ? ' (down)' : ''}, canary ${current.canary} → ${target.canary}${target.canary === 0 ? ' (down)' : ''}`;
  const unchanged = current.stable === target.stable && current.canary === target.canary;
  const steps: Step[] = unchanged
    ? []
    : [
        { describe: `nginx -t with the new upstream (${target.stable}/${target.canary})`, apply: () => nginx.test(candidate) },
        { describe: change, apply: () => nginx.install(candidate), undo: () => nginx.install(live) },
      ];
  return {
    current,
    summary: unchanged ? [`nothing to change: nginx already sends stable ${current.stable}, canary ${current.canary}`] : [change],
    steps,
    verify: async () => {
      const want = { stable: target.stable / total, canary: target.canary / total };
      const deadline = Date.now() + VERIFY_WINDOW_MS;
      const within = (seen: Record<string, number>, count: number) =>
        Math.abs((seen.stable ?? 0) / count - want.stable) <= SPLIT_TOLERANCE && Math.abs((seen.canary ?? 0) / count - want.canary) <= SPLIT_TOLERANCE;
      const text = (seen: Record<string, number>) => Object.entries(seen).map(([id, n]) => `${id} ${n}`).join(', ');
      // What the samples after the first saw, together (the first may still meet the workers of the previous configuration).
      const since: Record<string, number> = {};
      let sinceCount = 0;
      let last = '';
      // A reload takes effect as nginx's new workers start; sample until the split holds or time runs out. Under other
      // traffic a sample takes places in the weighted round robin at random: 100 requests at 25 % give 25 ± 4.3 to the
      // canary, outside ±5 one time in five. So the samples after the first also count together, and the split holds
      // when the last sample or those together are within the tolerance.
      for (let round = 0; ; round++) {
        const seen = await nginx.sample(samples);
        last = text(seen);
        if (within(seen, samples)) return `${samples} requests through nginx: ${last} (wanted ${Math.round(want.stable * 100)}/${Math.round(want.canary * 100)})`;
        if (round > 0) {
          for (const [id, n] of Object.entries(seen)) since[id] = (since[id] ?? 0) + n;
          sinceCount += samples;
          if (round > 1 && within(since, sinceCount)) return `${sinceCount} requests through nginx over ${round} samples: ${text(since)} (wanted ${Math.round(want.stable * 100)}/${Math.round(want.canary * 100)})`;
        }
        if (Date.now() > deadline) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `split not reached: ${last} of ${samples}${sinceCount > samples ? `; ${text(since)} of ${sinceCount} over the last ${round} samples` : ''} (wanted ${Math.round(want.stable * 100)}/${Math.round(want.canary * 100)} ±${SPLIT_TOLERANCE * 100})`);
      }
    },
  };
}

export interface DownshiftArgs extends Record<string, unknown> {
  /** % of traffic to the canary (0–100). */
  canary: number;
  samples: number;
  /** Force (or with `clear`, lift) the brief layer's downshift of this mode instead of moving nginx traffic. */
  mode?: string;
  clear?: boolean;
  /** Seconds a forced downshift holds unless forced again (renewed); without, until cleared. */
  ttl?: number;
  /** With `clear`: lift only where this actor forced it (a resolved alert lifts its own downshift, not an operator's). */
  forcedBy?: string;
}

type ModeStatus = { mode: string; active: boolean; forced: boolean; forcedBy: string | null; expiresAt: string | null; to: string | null };

/**
 * The brief layer's own downshift (creative → balanced → fast), forced or cleared on every serving
 * instance of the deployment (the service and, when configured, stable and canary): each instance
 * routes its own requests. A force with a TTL renews where the mode is already forced.
 */
async function planModeDownshift(deployment: Deployment, args: { mode: string; clear: boolean; ttl?: number; forcedBy?: string }, actor: string): Promise<Plan> {
  const { mode, clear, ttl, forcedBy } = args;
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) throw new FaiError(ErrorCodes.VALIDATION, `--ttl: ${ttl} is not a positive whole number of seconds`, { field: '--ttl' });
  const call = async (base: string, method: 'GET' | 'PUT' | 'DELETE'): Promise<ModeStatus[]> => {
    const target = method === 'GET' ? `${base}/v1/llm/downshift` : `${base}/v1/llm/downshift/${mode}${method === 'PUT' && ttl !== undefined ? `?ttlSeconds=${ttl}` : ''}`;
    const response = await fetch(target, { method, headers: method === 'GET' ? {} : operatorHeaders(process.env, actor), signal: AbortSignal.timeout(5_000) }).catch((error: unknown) => {
      throw new FaiError(ErrorCodes.UNAVAILABLE, `${target}: ${(error as Error).message}`);
    });
    const body = (await response.json()) as { modes?: ModeStatus[]; error?: { message: string } };
    if (!response.ok) throw new FaiError(ErrorCodes.VALIDATION, body.error?.message ?? `${target}: HTTP ${response.status}`, { field: '--mode' });
    return body.modes ?? [];
  };
  const modeOf = async (base: string): Promise<ModeStatus> => {
    const found = (await call(base, 'GET')).find((m) => m.mode === mode);
    if (found === undefined) throw new FaiError(ErrorCodes.VALIDATION, `--mode: "${mode}" is not a mode of the service (fast, balanced, creative)`, { field: '--mode' });
    return found;
  };
  const wanted = !clear;
  const current = await Promise.all(servingUrls(deployment).map(async (base) => ({ base, status: await modeOf(base) })));
  const steps: Step[] = [];
  const left: string[] = [];
  /** Instances whose downshift a scoped lift leaves as it is (someone else's). */
  const kept = new Set<string>();
  for (const { base, status } of current) {
    const force = () => call(base, 'PUT').then(() => undefined);
    const lift = () => call(base, 'DELETE').then(() => undefined);
    if (wanted) {
      // Forced already: renewed when a TTL is given (its clock starts again), else nothing to change.
      if (status.forced && ttl === undefined) continue;
      steps.push({ describe: `${base}: ${status.forced ? `renew the forced downshift of ${mode} for ${ttl} s` : `force ${mode} down${ttl === undefined ? '' : ` for ${ttl} s unless renewed`}`}`, apply: force, undo: status.forced ? force : lift });
    } else {
      if (!status.active) continue;
      if (forcedBy !== undefined && status.forcedBy !== forcedBy) {
        left.push(`${base}: ${mode} ${status.forced ? `forced by ${status.forcedBy ?? 'someone else'}` : 'downshifted by its own latency'}, not by ${forcedBy}: left`);
        kept.add(base);
        continue;
      }
      steps.push({ describe: `${base}: clear the downshift of ${mode}`, apply: lift, undo: status.forced ? force : async () => undefined });
    }
  }
  const bases = current.map((c) => c.base);
  return {
    summary: steps.length === 0 ? [`nothing to change: ${mode} is ${wanted ? 'already forced down' : 'not downshifted'} on ${bases.join(', ')}`, ...left] : [...steps.map((s) => s.describe), ...left],
    steps,
    verify: async () => {
      const after = await Promise.all(current.map(async ({ base }) => ({ base, status: await modeOf(base) })));
      const wrong = after.filter(({ base, status }) => !kept.has(base) && status.active !== wanted);
      if (wrong.length > 0) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `${mode} is ${wanted ? 'not' : 'still'} downshifted on ${wrong.map((w) => w.base).join(', ')}`);
      const where = `${after.length - kept.size} instance(s)`;
      return clear ? `${mode} serves itself again on ${where}${kept.size > 0 ? ` (${kept.size} left as they were)` : ''}` : `${mode} requests go to ${after[0]!.status.to} on ${where}${ttl === undefined ? '' : ` for ${ttl} s unless renewed`}`;
    },
  };
}

export function downshiftRunbook(deployment: Deployment): Runbook<DownshiftArgs> {
  return {
    name: 'downshift',
    description:
      'move traffic between stable and canary (default canary 50%): nginx upstream, nginx -t, reload, verified split; or --mode creative [--ttl SECONDS] [--clear]: force the brief layer down a mode on every serving instance (lapsing after the TTL unless renewed)',
    destructive: false,
    plan: async ({ canary, samples, mode, clear, ttl, forcedBy }, context) => {
      if (mode !== undefined) return planModeDownshift(deployment, { mode, clear: clear ?? false, ...(ttl === undefined ? {} : { ttl }), ...(forcedBy === undefined ? {} : { forcedBy }) }, context.actor);
      if (!Number.isInteger(canary) || canary < 0 || canary > 100) throw new FaiError(ErrorCodes.VALIDATION, `--canary: ${canary} is not a percentage 0–100`, { field: '--canary' });
      return planWeights(deployment, { stable: 100 - canary, canary }, samples);
    },
    // A mode the alert forced down comes back when the alert resolves (where it is still that alert's).
    lift: (args, forcedBy) => (args.mode === undefined || args.clear === true ? null : { ...args, clear: true, forcedBy }),
  };
}

/** A verdict already reached by `fai canary run` (its last analysis), passed on instead of analysing again. */
type Judged = { verdict: string; reasons: readonly string[] };

/**
 * The canary must be healthy, and the canary analysis (docs/operations.md) must say promote: over
 * `windowSeconds` from the deployment's Prometheus, or the analysis `fai canary run` made. Without a
 * Prometheus in the deployment there is nothing to analyse: the thresholds table must then be clear.
 */
async function checkCanary(deployment: Deployment, windowSeconds: number, judged: Judged | undefined): Promise<string> {
  const instances = requirePart(deployment.instances, 'instances');
  const base = `http://${instances.canary}`;
  const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5_000) }).catch((error: unknown) => {
    throw new FaiError(ErrorCodes.UNAVAILABLE, `canary ${instances.canary} does not answer: ${(error as Error).message}`);
  });
  const body = (await health.json()) as { status: string };
  if (health.status !== 200 || body.status === 'unhealthy') throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `canary ${instances.canary} is ${body.status}: not promoting`);
  const analysed = judged ?? (deployment.prometheus === null ? undefined : await analyzeCanary({ deployment, criteria: DEFAULT_CRITERIA, from: new Date(Date.now() - windowSeconds * 1000) }));
  if (analysed !== undefined) {
    if (analysed.verdict !== 'promote') throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `canary analysis says ${analysed.verdict}: ${analysed.reasons.join('; ')}`);
    return `canary ${instances.canary} healthy; analysis: promote (${analysed.reasons.join('; ')})`;
  }
  const thresholds = (await (await fetch(`${base}/health/thresholds`, { signal: AbortSignal.timeout(5_000) })).json()) as { status: string; rows: Array<{ title: string; status: string }> };
  const bad = thresholds.rows.filter((row) => row.status === 'WARNING' || row.status === 'CRITICAL');
  if (bad.length > 0) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `canary breaches the thresholds table: ${bad.map((r) => `${r.title} ${r.status}`).join(', ')}`);
  return `canary ${instances.canary} healthy (${body.status}), thresholds ${thresholds.status} (no Prometheus in the deployment: no statistical analysis)`;
}

export function canaryPromoteRunbook(deployment: Deployment): Runbook<{ samples: number; release?: string; window?: number; judged?: Judged }> {
  return {
    name: 'canary-promote',
    description: 'check the canary (health, and the canary analysis from Prometheus says promote), send it 100% of traffic, mark the old stable down, record the release',
    destructive: false,
    plan: async ({ samples, release, window, judged }) => {
      const checked = await checkCanary(deployment, window ?? 600, judged);
      const plan = await planWeights(deployment, { stable: 0, canary: 100 }, samples);
      const history = new ReleaseHistory(deployment);
      const releases = await history.all();
      const version = release ?? `canary-${new Date().toISOString()}`;
      const record: Step = {
        describe: `record release ${version} with the current pins`,
        apply: async () => {
          const pins = openPins(deployment);
          try {
            await history.write([...releases, { version, pins: await pins.store.read(), at: new Date().toISOString(), by: `${userInfo().username} (canary-promote)` }]);
          } finally {
            await pins.close();
          }
        },
        undo: () => history.write(releases),
      };
      return { ...plan, summary: [`check: ${checked}`, ...plan.summary, record.describe], steps: [...plan.steps, record] };
    },
  };
}
