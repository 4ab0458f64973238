import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { CloudHub } from '../hub/index.ts';
import type { PolicyPin, PolicyPinName } from '../llm/index.ts';
import { loadCheckpoint, type CheckpointMeta } from './checkpoint.ts';
import type { FormulationEnv } from './environment.ts';
import type { Mlp } from './mlp.ts';

export interface LoadedPolicy {
  readonly name: PolicyPinName;
  readonly pin: PolicyPin;
  readonly net: Mlp;
  readonly meta: CheckpointMeta;
}

/** What GET /health/policy reports: a policy pin and whether its checkpoint loads. */
export interface PolicyStatus {
  readonly pin: PolicyPinName;
  readonly status: 'loaded' | 'not_pinned' | 'unavailable';
  readonly version: string | null;
  readonly cid: string | null;
  readonly algorithm?: CheckpointMeta['algorithm'];
  readonly shape?: readonly number[];
  /** The checkpoint's greedy mean reward on the held-out briefs (never trained on), as its training measured it. */
  readonly heldOutReturn?: number;
  /** The world it was trained in (palette, state layout, reward version). */
  readonly world?: CheckpointMeta['world'];
  readonly detail?: string;
}

/**
 * The pinned formulation policies (production, shadow teacher, shadow student), each restored from
 * the Cloud Hub by its CID (verified) on first use, shape-checked against the environment and kept
 * in memory by CID: a new pin is loaded by the next use, and a failed load is retried next time.
 */
export class PolicyStore {
  private readonly cache = new Map<string, Promise<{ net: Mlp; meta: CheckpointMeta }>>();

  constructor(
    private readonly hub: CloudHub,
    private readonly env: () => FormulationEnv,
    private readonly keep = 8,
  ) {}

  load(name: PolicyPinName, pin: PolicyPin | undefined): Promise<LoadedPolicy> {
    if (pin === undefined) {
      return Promise.reject(new FaiError(ErrorCodes.UNAVAILABLE, `no "${name}" pinned: fai train --submit (or fai distill --submit) prints a checkpoint CID, then fai runbook pin-update --model ${name} --version VERSION --cid CID`));
    }
    let loading = this.cache.get(pin.cid);
    if (loading === undefined) {
      loading = (async () => {
        const env = this.env();
        // A checkpoint made for another world (palette, state layout, reward) is refused, naming what changed.
        const { net, meta } = await loadCheckpoint(this.hub, pin.cid, env.world).catch((error: unknown) => {
          throw new FaiError(ErrorCodes.UNAVAILABLE, `${name} ${pin.version} (${pin.cid}) cannot be loaded: ${(error as Error).message}`);
        });
        if (meta.inputs !== env.stateSize || meta.shape.at(-1) !== env.actions) {
          throw new FaiError(ErrorCodes.UNAVAILABLE, `${name} ${pin.version} (${pin.cid}) has shape ${meta.shape.join('-')} over ${meta.inputs} inputs, which does not fit this environment (${env.stateSize} inputs, ${env.actions} actions)`);
        }
        return { net, meta };
      })();
      const entry = loading;
      this.cache.set(pin.cid, entry);
      // A failed load is not cached: the next use tries again (the hub may be back).
      entry.catch(() => {
        if (this.cache.get(pin.cid) === entry) this.cache.delete(pin.cid);
      });
      // Old versions leave memory once more than `keep` are held (Map keeps insertion order).
      while (this.cache.size > this.keep) this.cache.delete(this.cache.keys().next().value!);
    }
    return loading.then((loaded) => ({ name, pin, ...loaded }));
  }

  /** Loads the pin's checkpoint if needed and says whether it serves. */
  async status(name: PolicyPinName, pin: PolicyPin | undefined): Promise<PolicyStatus> {
    if (pin === undefined) return { pin: name, status: 'not_pinned', version: null, cid: null, detail: `no "${name}" pin in the pins file` };
    try {
      const { meta } = await this.load(name, pin);
      return { pin: name, status: 'loaded', version: pin.version, cid: pin.cid, algorithm: meta.algorithm, shape: meta.shape, heldOutReturn: meta.evaluationReturn, world: meta.world };
    } catch (error) {
      return { pin: name, status: 'unavailable', version: pin.version, cid: pin.cid, detail: (error as Error).message };
    }
  }
}
