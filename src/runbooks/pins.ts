import { ErrorCodes, FaiError } from '../errors/index.ts';
import { isCid } from '../hub/index.ts';
import { FilePinStore, isPolicyPinName, PIN_VERSION, pinText, pinVersion, POLICY_PINS, RedisPinStore, samePin, type Pin, type PinStore } from '../llm/index.ts';
import { deploymentRedis } from './redis-connection.ts';
import { backendFor } from './backend.ts';
import { SERVING_ROLES, type Deployment } from './deployment.ts';
import type { Plan, Runbook } from './engine.ts';

export interface PinUpdateArgs extends Record<string, unknown> {
  model?: string;
  version?: string;
  /** The policy pin's checkpoint: its Cloud Hub CID. */
  cid?: string;
  list?: boolean;
}

/**
 * The deployment's pins: in its Redis when it has one (every instance takes a change as it is
 * published), else the pins file (the serving processes re-read it on SIGHUP). `close` releases the
 * connection.
 */
export function openPins(deployment: Deployment): { store: PinStore; shared: boolean; close(): Promise<void> } {
  if (deployment.redisUrl === null) return { store: new FilePinStore(deployment.pinsFile), shared: false, close: async () => undefined };
  const redis = deploymentRedis(deployment.redisUrl);
  return { store: new RedisPinStore(redis, deployment.pinsFile), shared: true, close: async () => void redis.disconnect() };
}

/** Runs `plan` with the deployment's pins open; they stay open until the plan's dispose (or are closed at once if planning throws). */
export async function withPins(deployment: Deployment, plan: (pins: ReturnType<typeof openPins>) => Promise<Plan>): Promise<Plan> {
  const pins = openPins(deployment);
  try {
    const planned = await plan(pins);
    const dispose = planned.dispose;
    return { ...planned, dispose: async () => {
      await dispose?.call(planned);
      await pins.close();
    } };
  } catch (error) {
    await pins.close();
    throw error;
  }
}

export function pinUpdateRunbook(deployment: Deployment): Runbook<PinUpdateArgs> {
  return {
    name: 'pin-update',
    description: `set one model pin (--model --version; ${POLICY_PINS.join(', ')} also --cid), validated, in the deployment's Redis (every instance takes it) or configs/model_pins.json (SIGHUP); --list shows the pins`,
    destructive: false,
    plan: ({ model, version, cid, list }) => withPins(deployment, async ({ store, shared }) => {
      const before = await store.read();
      if (list) {
        return { summary: Object.entries(before).map(([m, v]) => `${m} ${pinText(v)}`), steps: [], verify: async () => 'pins listed, nothing changed' };
      }
      if (model === undefined || version === undefined) throw new FaiError(ErrorCodes.VALIDATION, '--model and --version are both required (or --list)', { field: model === undefined ? '--model' : '--version' });
      // A policy may be pinned for the first time; an LLM must already be pinned (a typo is not a new model).
      if (!(model in before) && !isPolicyPinName(model)) throw new FaiError(ErrorCodes.NOT_FOUND, `--model: "${model}" is not pinned (pinned: ${Object.keys(before).join(', ')})`, { field: '--model' });
      if (!PIN_VERSION.test(version)) throw new FaiError(ErrorCodes.VALIDATION, `--version: "${version}" is not a version like 2.5.1`, { field: '--version' });
      let pin: Pin = version;
      if (isPolicyPinName(model)) {
        if (cid === undefined) throw new FaiError(ErrorCodes.VALIDATION, `--cid is required for ${model}: the CID of the version's checkpoint in the Cloud Hub (fai train --submit prints it)`, { field: '--cid' });
        if (!isCid(cid)) throw new FaiError(ErrorCodes.VALIDATION, `--cid: "${cid.slice(0, 100)}" is not a CID`, { field: '--cid' });
        pin = { version, cid };
      } else if (cid !== undefined) {
        throw new FaiError(ErrorCodes.VALIDATION, `--cid: only ${POLICY_PINS.join(', ')} are pinned to a CID; ${model}'s pin is its version`, { field: '--cid' });
      }
      const after = { ...before, [model]: pin };
      if (samePin(before[model], pin)) return { summary: [`nothing to change: ${model} is already ${pinText(pin)}`], steps: [], verify: async () => `${model} ${pinText(pin)}` };
      const serving = deployment.processes.filter((p) => SERVING_ROLES.has(p.role));
      const backend = backendFor(deployment);
      // The serving processes running now (one look at the backend): a process that is not running takes the pins when it starts.
      const running = async () => {
        const up = new Set((await backend.status()).filter((s) => s.running).map((s) => s.name));
        return serving.filter((p) => up.has(p.name));
      };
      // With the pins in Redis every instance takes the change as it is published; with the file, SIGHUP makes a
      // running service re-read it without a restart. Either way no request is dropped.
      const reload = async (processes: Deployment['processes']) => {
        if (!shared) for (const process of processes) await backend.signal(process.name, 'SIGHUP');
      };
      return {
        summary: [
          `${store.where}: ${model} ${pinText(before[model])} → ${pinText(pin)}`,
          shared ? 'every instance sharing the Redis takes it as it is published (no signal, no restart)' : serving.length === 0 ? 'no managed service process: the service picks the pins up on its next SIGHUP or start' : `reload pins in ${serving.map((p) => p.name).join(', ')} (SIGHUP)`,
        ],
        steps: [
          // Undo restores the pins and then reloads: undo runs in reverse, so a reload undone on its own would re-read the new pins.
          // Undone when the running serving processes serve the previous pin again (a reload takes a moment; a first pin has none to wait for).
          { describe: `pin ${model}: ${pinText(before[model])} → ${pinText(pin)} (${store.where})`, apply: () => store.write(after), undo: async () => {
            await store.write(before);
            const up = await running();
            await reload(up);
            const previous = before[model];
            if (previous === undefined) return;
            for (const process of up) await servedBy(process, model, previous);
          } },
          ...(serving.length === 0 || shared ? [] : [{ describe: 'SIGHUP the serving processes', apply: async () => reload(await running()) }]),
        ],
        verify: async () => {
          const now = await store.read();
          if (!samePin(now[model], pin)) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `${store.where} says ${model} ${pinText(now[model])}`);
          // From outside: each serving process reports the new pin — an LLM's on /health/llm; the policy's on
          // /health/policy, which also loads its checkpoint from the hub (CID verified): a pin that does not load fails here and is undone.
          for (const process of serving) await servedBy(process, model, pin);
          return `${store.where} reads ${model} ${pinText(pin)}${serving.length > 0 ? `; ${serving.map((p) => p.name).join(', ')} serve it` : ''}`;
        },
      };
    }),
  };
}

/**
 * Waits (5 s at most) until `process` reports that it serves `model` at `pin`, asked from outside: an
 * LLM's pinned version on /health/llm; a policy's on /health/policy, which also loads its checkpoint
 * from the hub (CID verified). A process without a health URL is not asked.
 */
async function servedBy(process: Deployment['processes'][number], model: string, pin: Pin): Promise<void> {
  if (process.healthUrl === undefined) return;
  const policy = isPolicyPinName(model);
  const version = pinVersion(pin);
  const cid = typeof pin === 'string' ? undefined : pin.cid;
  const url = new URL(policy ? `/health/policy?pin=${model}` : `/health/llm?model=${encodeURIComponent(model)}`, process.healthUrl);
  const deadline = Date.now() + 5_000;
  for (;;) {
    const body = (await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).json().catch(() => ({}))) as { pinnedVersion?: string; version?: string; cid?: string; status?: string; detail?: string };
    const served = policy ? body.status === 'loaded' && body.version === version && body.cid === cid : body.pinnedVersion === version;
    if (served) return;
    if (Date.now() > deadline) {
      const says = policy ? `${body.status ?? 'no answer'} ${body.version ?? ''} ${body.detail ?? ''}`.trim() : `${model} ${body.pinnedVersion ?? '(none)'}`;
      throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `${process.name} does not serve ${model} ${pinText(pin)}: ${says}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
