import { userInfo } from 'node:os';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { pinText, policyPinOf, samePin } from '../llm/index.ts';
import { withPins } from './pins.ts';
import { backendFor, type Backend } from './backend.ts';
import { SERVING_ROLES, type Deployment } from './deployment.ts';
import type { Runbook, Step } from './engine.ts';
import { ReleaseHistory } from './releases.ts';


async function healthy(url: string | undefined): Promise<boolean> {
  if (url === undefined) return true;
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200;
  } catch {
    return false;
  }
}

/**
 * Rolling restart: one process at a time, each back and healthy before the next goes down. Without
 * `model`, the workers; with `model` (HighWorkerVRAM names the slot whose server holds the memory),
 * the LLM servers of that slot (role `llm`).
 */
export function restartWorkersRunbook(deployment: Deployment, backend: Backend = backendFor(deployment)): Runbook<{ model?: string }> {
  return {
    name: 'restart-workers',
    description: 'restart the workers one at a time (each healthy again before the next), so capacity never reaches zero; --model SLOT: the LLM servers of that slot instead',
    // Every worker's in-flight requests and caches go with it: approval first, like the other runbooks that stop processes.
    destructive: true,
    plan: async ({ model }) => {
      const what = model === undefined ? 'worker' : `LLM server of ${model}`;
      const workers = deployment.processes.filter((p) => (model === undefined ? p.role === 'worker' : p.role === 'llm' && p.model === model));
      if (workers.length === 0) return { summary: [`nothing to restart: no ${what} in the deployment`], steps: [], verify: async () => `no ${what}` };
      const names = new Set(workers.map((w) => w.name));
      const status = await backend.status();
      const down = status.filter((s) => names.has(s.name) && !s.running).map((s) => s.name);
      const steps: Step[] = workers.map((worker) => ({
        describe: `restart ${worker.name} (${workers.length - 1} other ${what}(s) keep serving)`,
        apply: async () => {
          const others = workers.filter((w) => w.name !== worker.name);
          if (others.length > 0 && !(await Promise.all(others.map((w) => healthy(w.healthUrl)))).some(Boolean)) {
            throw new FaiError(ErrorCodes.UNAVAILABLE, `not restarting ${worker.name}: no other ${what} is healthy, capacity would reach zero`);
          }
          await backend.restart(worker.name);
        },
      }));
      return {
        summary: [
          `restart ${workers.map((w) => w.name).join(', ')} one at a time`,
          ...(down.length > 0 ? [`not running now (will be started): ${down.join(', ')}`] : []),
          ...(workers.length === 1 ? [`only one ${what}: its capacity is zero while it restarts`] : []),
        ],
        steps,
        verify: async () => {
          const states = await backend.status();
          const bad = workers.filter((w) => !states.find((s) => s.name === w.name)?.running);
          const unhealthy = (await Promise.all(workers.map(async (w) => ((await healthy(w.healthUrl)) ? null : w.name)))).filter((n) => n !== null);
          if (bad.length > 0 || unhealthy.length > 0) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `not back: ${[...bad.map((w) => w.name), ...unhealthy].join(', ')}`);
          return `${workers.length} ${what}(s) restarted and healthy`;
        },
      };
    },
  };
}

/** Stops every process of the deployment. Destructive: needs --yes. Undone (started again) if a process will not stop. */
export function emergencyStopRunbook(deployment: Deployment, backend: Backend = backendFor(deployment)): Runbook<Record<string, unknown>> {
  return {
    name: 'emergency-stop',
    description: 'stop every process of the deployment (workers, canary, stable, service)',
    destructive: true,
    plan: async () => {
      const running = (await backend.status()).filter((s) => s.running);
      if (running.length === 0) return { summary: ['nothing to stop: no process of the deployment is running'], steps: [], verify: async () => 'all stopped' };
      // Workers first, the front-line service last: work in flight drains before the door closes.
      const order = [...running].sort((a, b) => Number(SERVING_ROLES.has(a.role)) - Number(SERVING_ROLES.has(b.role)));
      return {
        summary: [`stop ${order.map((s) => `${s.name} (${s.role})`).join(', ')}`],
        steps: order.map((s) => ({ describe: `stop ${s.name}`, apply: () => backend.stop(s.name), undo: () => backend.start(s.name) })),
        verify: async () => {
          const still = (await backend.status()).filter((s) => s.running).map((s) => s.name);
          if (still.length > 0) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `still running: ${still.join(', ')}`);
          return `stopped ${order.length} process(es)`;
        },
      };
    },
  };
}

/**
 * Restarts the serving processes one at a time so they pick up a change (pins), each healthy again
 * before the next. The process running this runbook (the service acting on an alert) is not
 * restarted — that would end the run it is doing — it re-reads its pins in place (SIGHUP, as
 * pin-update does; no request is dropped).
 */
function restartServing(deployment: Deployment, backend: Backend): Step[] {
  return deployment.processes
    .filter((p) => SERVING_ROLES.has(p.role))
    .map((p) => ({
      describe: `restart ${p.name} (or, if it is the process running this runbook, reload its pins by SIGHUP)`,
      apply: async () => {
        const self = (await backend.status()).find((s) => s.name === p.name)?.pid === globalThis.process.pid;
        if (self) await backend.signal(p.name, 'SIGHUP');
        else await backend.restart(p.name);
      },
    }));
}

/** Returns to the previous release in the history: its pins, then a rolling restart, then a health check. Destructive. */
export function rollbackRunbook(deployment: Deployment, backend: Backend = backendFor(deployment)): Runbook<Record<string, unknown>> {
  return {
    name: 'rollback',
    description: 'return to the previous release in the release history (version + model pins), restart the serving processes, check health',
    destructive: true,
    plan: () => withPins(deployment, async ({ store }) => {
      const history = new ReleaseHistory(deployment);
      const releases = await history.all();
      if (releases.length < 2) throw new FaiError(ErrorCodes.NOT_FOUND, `rollback: the release history has ${releases.length} release(s); nothing to return to`, { field: 'releases' });
      const current = releases.at(-1)!;
      const previous = releases.at(-2)!;
      const pinsBefore = await store.read();
      const changes = Object.keys({ ...pinsBefore, ...previous.pins }).filter((m) => !samePin(pinsBefore[m], previous.pins[m])).map((m) => `${m} ${pinText(pinsBefore[m])} → ${pinText(previous.pins[m])}`);
      return {
        summary: [`release ${current.version} → ${previous.version}`, changes.length === 0 ? 'pins unchanged' : `pins: ${changes.join(', ')}`, ...restartServing(deployment, backend).map((s) => s.describe)],
        steps: [
          { describe: `write the pins of ${previous.version} (${store.where})${changes.length === 0 ? '' : `: ${changes.join(', ')}`}`, apply: () => store.write(previous.pins), undo: () => store.write(pinsBefore) },
          { describe: `record ${previous.version} as the current release`, apply: () => history.write([...releases, { ...previous, at: new Date().toISOString(), by: `${userInfo().username} (rollback)` }]), undo: () => history.write(releases) },
          ...restartServing(deployment, backend),
        ],
        verify: async () => {
          const serving = deployment.processes.filter((p) => SERVING_ROLES.has(p.role));
          const sick = (await Promise.all(serving.map(async (p) => ((await healthy(p.healthUrl)) ? null : p.name)))).filter((n) => n !== null);
          if (sick.length > 0) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `unhealthy after the rollback: ${sick.join(', ')}`);
          const pins = await store.read();
          if (JSON.stringify(pins) !== JSON.stringify(previous.pins)) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `${store.where} does not hold the release pins`);
          // The release's production policy must load in every serving process (its checkpoint is in their hub, CID verified).
          const policy = policyPinOf(previous.pins);
          if (policy !== undefined) {
            for (const p of serving) {
              if (p.healthUrl === undefined) continue;
              // A process that reloaded its pins by SIGHUP (the one running this) may take a moment: up to 5 s.
              const deadline = Date.now() + 5_000;
              for (;;) {
                const body = (await (await fetch(new URL('/health/policy', p.healthUrl), { signal: AbortSignal.timeout(10_000) })).json().catch(() => ({}))) as { status?: string; cid?: string; detail?: string };
                if (body.status === 'loaded' && body.cid === policy.cid) break;
                if (Date.now() > deadline) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `${p.name} does not serve policy ${pinText(policy)}: ${body.status ?? 'no answer'} ${body.detail ?? ''}`.trim());
                await new Promise((resolve) => setTimeout(resolve, 100));
              }
            }
          }
          return `on ${previous.version}; ${serving.length} serving process(es) healthy`;
        },
      };
    }),
  };
}
