import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { CloudHub } from '../hub/index.ts';
import type { CreativeBrief } from '../llm/index.ts';
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
  readonly policy: { cid: string; algorithm: CheckpointMeta['algorithm']; shape: readonly number[]; evaluationReturn: number };
}

/**
 * Turns a brief into a formula with the production policy: the checkpoint named by
 * FORMULA_POLICY_CID, restored from the Cloud Hub (CID verified) on first use and kept in memory.
 * The policy acts greedily, so the same brief gets the same formula.
 */
export class FormulaService {
  private readonly hub: CloudHub;
  private readonly compliance: ComplianceChecker;
  private readonly policyCid: string | undefined;
  private env: FormulationEnv | undefined;
  private loading: Promise<{ net: Mlp; meta: CheckpointMeta }> | undefined;

  constructor(options: { hub: CloudHub; compliance: ComplianceChecker; policyCid: string | undefined; env?: FormulationEnv }) {
    this.hub = options.hub;
    this.compliance = options.compliance;
    this.policyCid = options.policyCid;
    this.env = options.env;
  }

  private policy(): Promise<{ net: Mlp; meta: CheckpointMeta }> {
    const cid = this.policyCid;
    if (cid === undefined) {
      return Promise.reject(new FaiError(ErrorCodes.UNAVAILABLE, 'no production policy: set FORMULA_POLICY_CID to a checkpoint CID in this hub (fai train --out, then fai hub put checkpoint)'));
    }
    this.loading ??= (async () => {
      const { net, meta } = await loadCheckpoint(this.hub, cid).catch((error: unknown) => {
        throw new FaiError(ErrorCodes.UNAVAILABLE, `production policy ${cid} cannot be loaded: ${(error as Error).message}`);
      });
      const env = this.environment();
      if (meta.shape[0] !== env.stateSize || meta.shape.at(-1) !== env.actions) {
        throw new FaiError(ErrorCodes.UNAVAILABLE, `production policy ${cid} has shape ${meta.shape.join('-')}, which does not fit this environment (${env.stateSize} inputs, ${env.actions} actions)`);
      }
      return { net, meta };
    })();
    // A failed load is not cached: the next request tries again (the hub may be back).
    this.loading.catch(() => (this.loading = undefined));
    return this.loading;
  }

  private environment(): FormulationEnv {
    this.env ??= new FormulationEnv({ regulatory: this.compliance.catalogue });
    return this.env;
  }

  async compose(brief: CreativeBrief): Promise<ServedFormula> {
    const { net, meta } = await this.policy();
    const env = this.environment();
    const { units, reward } = env.episode(brief, (state) => greedy(net, state), new Random(1));
    if (units.size === 0) {
      // An untrained or degenerate policy can remove everything it added; an empty formula is no answer.
      throw new FaiError(ErrorCodes.UNAVAILABLE, `production policy ${this.policyCid} built an empty formula for this brief: it needs more training (check it with fai eval)`);
    }
    const request = env.checkRequest(brief, units);
    // request.formula lists the materials in the order of `units`.
    const formula = [...units.keys()].map((i, k) => {
      const material = env.palette[i]!;
      return { material: material.name, cas: material.cas, concentrationPct: Math.round(request.formula[k]!.concentrationPct * 1000) / 1000, notePosition: material.notePosition!, odorFamily: material.odorFamily };
    });
    return {
      formula,
      compliance: this.compliance.check(request),
      reward,
      policy: { cid: this.policyCid!, algorithm: meta.algorithm, shape: meta.shape, evaluationReturn: meta.evaluationReturn },
    };
  }
}
