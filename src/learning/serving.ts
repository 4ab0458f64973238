import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { CloudHub } from '../hub/index.ts';
import { POLICY_PIN, type CreativeBrief, type PolicyPin } from '../llm/index.ts';
import type { ComplianceChecker, ComplianceResult } from '../regulation/index.ts';
import { loadCheckpoint, type CheckpointMeta } from './checkpoint.ts';
import { FormulationEnv, type RewardBreakdown } from './environment.ts';
import { greedy } from './evaluate.ts';
import type { Mlp } from './mlp.ts';
import { Random } from './random.ts';

export interface ServedFormula {
  readonly formula: ReadonlyArray<{ material: string; cas: string; concentrationPct: number; notePosition: string; odorFamily: string }>;
  readonly compliance: ComplianceResult;
  readonly reward: RewardBreakdown;
  readonly policy: { version: string; cid: string; algorithm: CheckpointMeta['algorithm']; shape: readonly number[]; evaluationReturn: number };
  /** The recipe (brief, formula, policy) as stored in the Cloud Hub: customers' feedback names it. */
  readonly recipeCid: string;
}

/** What GET /health/policy reports: the pin in force and whether its checkpoint loads. */
export interface PolicyStatus {
  readonly status: 'loaded' | 'not_pinned' | 'unavailable';
  readonly version: string | null;
  readonly cid: string | null;
  readonly algorithm?: CheckpointMeta['algorithm'];
  readonly shape?: readonly number[];
  readonly evaluationReturn?: number;
  readonly detail?: string;
}

/**
 * Turns a brief into a formula with the production policy: the checkpoint pinned as
 * `formulation-policy` in configs/model_pins.json (version → CID), restored from the Cloud Hub
 * (CID verified) on first use and kept in memory. A new pin (pin-update, rollback, SIGHUP) is
 * picked up by the next request. The policy acts greedily, so the same brief gets the same formula.
 */
export class FormulaService {
  private readonly hub: CloudHub;
  private readonly compliance: ComplianceChecker;
  private readonly pin: () => PolicyPin | undefined;
  private env: FormulationEnv | undefined;
  private loaded: { cid: string; loading: Promise<{ net: Mlp; meta: CheckpointMeta }> } | undefined;

  constructor(options: { hub: CloudHub; compliance: ComplianceChecker; policyPin: () => PolicyPin | undefined; env?: FormulationEnv }) {
    this.hub = options.hub;
    this.compliance = options.compliance;
    this.pin = options.policyPin;
    this.env = options.env;
  }

  private policy(): Promise<{ pin: PolicyPin; net: Mlp; meta: CheckpointMeta }> {
    const pin = this.pin();
    if (pin === undefined) {
      return Promise.reject(new FaiError(ErrorCodes.UNAVAILABLE, `no production policy: pin one as "${POLICY_PIN}" in the pins file (fai train --publish VERSION, then fai runbook pin-update --model ${POLICY_PIN} --version VERSION --cid CID)`));
    }
    const { cid } = pin;
    if (this.loaded?.cid !== cid) {
      const loading = (async () => {
        const { net, meta } = await loadCheckpoint(this.hub, cid).catch((error: unknown) => {
          throw new FaiError(ErrorCodes.UNAVAILABLE, `production policy ${pin.version} (${cid}) cannot be loaded: ${(error as Error).message}`);
        });
        const env = this.environment();
        if (meta.shape[0] !== env.stateSize || meta.shape.at(-1) !== env.actions) {
          throw new FaiError(ErrorCodes.UNAVAILABLE, `production policy ${pin.version} (${cid}) has shape ${meta.shape.join('-')}, which does not fit this environment (${env.stateSize} inputs, ${env.actions} actions)`);
        }
        return { net, meta };
      })();
      const entry = { cid, loading };
      this.loaded = entry;
      // A failed load is not cached: the next request tries again (the hub may be back).
      loading.catch(() => {
        if (this.loaded === entry) this.loaded = undefined;
      });
    }
    return this.loaded!.loading.then((policy) => ({ pin, ...policy }));
  }

  /** Loads the pinned policy if needed and says whether it serves. */
  async status(): Promise<PolicyStatus> {
    const pin = this.pin();
    if (pin === undefined) return { status: 'not_pinned', version: null, cid: null, detail: `no "${POLICY_PIN}" pin in the pins file` };
    try {
      const { meta } = await this.policy();
      return { status: 'loaded', version: pin.version, cid: pin.cid, algorithm: meta.algorithm, shape: meta.shape, evaluationReturn: meta.evaluationReturn };
    } catch (error) {
      return { status: 'unavailable', version: pin.version, cid: pin.cid, detail: (error as Error).message };
    }
  }

  private environment(): FormulationEnv {
    this.env ??= new FormulationEnv({ regulatory: this.compliance.catalogue });
    return this.env;
  }

  async compose(brief: CreativeBrief): Promise<ServedFormula> {
    const { pin, net, meta } = await this.policy();
    const env = this.environment();
    const { units, reward } = env.episode(brief, (state) => greedy(net, state), new Random(1));
    if (units.size === 0) {
      // An untrained or degenerate policy can remove everything it added; an empty formula is no answer.
      throw new FaiError(ErrorCodes.UNAVAILABLE, `production policy ${pin.version} (${pin.cid}) built an empty formula for this brief: it needs more training (check it with fai eval)`);
    }
    const request = env.checkRequest(brief, units);
    // request.formula lists the materials in the order of `units`.
    const formula = [...units.keys()].map((i, k) => {
      const material = env.palette[i]!;
      return { material: material.name, cas: material.cas, concentrationPct: Math.round(request.formula[k]!.concentrationPct * 1000) / 1000, notePosition: material.notePosition!, odorFamily: material.odorFamily };
    });
    const policy = { version: pin.version, cid: pin.cid, algorithm: meta.algorithm, shape: meta.shape, evaluationReturn: meta.evaluationReturn };
    const compliance = this.compliance.check(request);
    const recipe = await this.hub.storeJson('recipe', plainJson({ brief, formula, policy: { version: pin.version, cid: pin.cid } }), ['served']);
    return { formula, compliance, reward, policy, recipeCid: recipe.cid };
  }
}

/** dag-json has no `undefined`: optional fields a schema left unset are dropped, as JSON would. */
const plainJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
