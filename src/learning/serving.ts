import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { CloudHub } from '../hub/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { POLICY_PIN, policyPinOf, type CreativeBrief, type PolicyPinName, type Pins } from '../llm/index.ts';
import type { ComplianceChecker, ComplianceResult } from '../regulation/index.ts';
import type { CheckpointMeta } from './checkpoint.ts';
import { FormulationEnv, type RewardBreakdown } from './environment.ts';
import { greedy } from './evaluate.ts';
import { formulaSheet, type FormulaSheet, type SheetLine } from './formula-sheet.ts';
import { refine } from './refine.ts';
import { PolicyStore, type LoadedPolicy, type PolicyStatus } from './policy-store.ts';
import { Random } from './random.ts';
import { ReturnAverages } from './reinforce.ts';

/** What production answered, as the shadow evaluation needs it. */
export interface ProductionAnswer {
  readonly requestId: string;
  readonly brief: CreativeBrief;
  /** The policy's greedy episode (forward passes and formula steps), ms. */
  readonly latencyMs: number;
  readonly reward: number;
  /** Units per palette index. */
  readonly units: ReadonlyArray<readonly [number, number]>;
  readonly version: string;
  readonly cid: string;
}

export interface ServedFormula {
  /** The formula sheet's lines: material, % of the concentrate, % in the product, position, family, share of its IFRA limit, allergens, who put it there. */
  readonly formula: readonly SheetLine[];
  readonly sheet: Omit<FormulaSheet, 'lines'>;
  readonly compliance: ComplianceResult;
  /** From the IFRA certificate of this concentrate: the highest dosage the brief's category allows, and what sets it. */
  readonly ifraMaxDosage: {
    readonly category: string;
    readonly amendment: number;
    readonly dosagePct: number;
    readonly maxDosagePct: number | null;
    readonly limitedBy: readonly string[];
    readonly reason: string | null;
  };
  readonly reward: RewardBreakdown;
  /** The serving-time search from the policy's picks (refine.ts). */
  readonly refinement: { readonly policyReward: number; readonly reward: number; readonly evaluations: number; readonly moves: number; readonly elapsedMs: number };
  readonly policy: { version: string; cid: string; algorithm: CheckpointMeta['algorithm']; shape: readonly number[]; evaluationReturn: number };
  /** The recipe (brief, formula, policy) as stored in the Cloud Hub: customers' feedback names it. */
  readonly recipeCid: string;
}

/**
 * Turns a brief into a formula with the production policy: the checkpoint pinned as
 * `formulation-policy` in configs/model_pins.json (version → CID), restored from the Cloud Hub
 * (CID verified) on first use and kept in memory. A new pin (pin-update, rollback, SIGHUP) is
 * picked up by the next request. The policy acts greedily, so the same brief gets the same formula.
 */
export class FormulaService {
  readonly policies: PolicyStore;
  private environment: FormulationEnv | undefined;
  private readonly hub: CloudHub;
  private readonly compliance: ComplianceChecker;
  private readonly pins: () => Pins;
  /** Told each production answer (the shadow evaluation samples from these); must not block. */
  observe: ((answer: ProductionAnswer) => void) | undefined;
  private readonly metrics: Pick<Metrics, 'rlRewardMa'> | undefined;
  /** rl_reward_ma{source="served"} of the policy now pinned: a new pin starts its own (it was never measured here). */
  private served: { cid: string; algorithm: string; averages: ReturnAverages } | undefined;

  constructor(options: { hub: CloudHub; compliance: ComplianceChecker; pins: () => Pins; env?: FormulationEnv; metrics?: Pick<Metrics, 'rlRewardMa'> }) {
    this.hub = options.hub;
    this.metrics = options.metrics;
    this.compliance = options.compliance;
    this.pins = options.pins;
    this.environment = options.env;
    this.policies = new PolicyStore(options.hub, () => this.env);
  }

  /** The environment the policies act in, built on first use (its palette is read then, not at start-up). */
  get env(): FormulationEnv {
    this.environment ??= new FormulationEnv({ regulatory: this.compliance.catalogue });
    return this.environment;
  }

  /** Adds a served formula's reward to the pinned policy's moving averages (a new pin replaces the old policy's series). */
  private recordServed(cid: string, algorithm: string, reward: number): void {
    if (this.served?.cid !== cid) {
      if (this.served !== undefined) {
        for (const window of ['100', '1000']) this.metrics?.rlRewardMa.remove({ algorithm: this.served.algorithm, window, source: 'served' });
      }
      this.served = { cid, algorithm, averages: new ReturnAverages(this.metrics, algorithm, 'served') };
    }
    this.served.averages.push(reward);
  }

  /** A pinned policy, loaded (production by default). */
  policy(name: PolicyPinName = POLICY_PIN): Promise<LoadedPolicy> {
    return this.policies.load(name, policyPinOf(this.pins(), name));
  }

  /** Loads a pinned policy if needed and says whether it serves (GET /health/policy). */
  status(name: PolicyPinName = POLICY_PIN): Promise<PolicyStatus> {
    return this.policies.status(name, policyPinOf(this.pins(), name));
  }

  /**
   * The production formula for a brief. `observe` (the shadow evaluation) is told what production
   * answered — after the answer is complete and without waiting for it.
   */
  async compose(brief: CreativeBrief, requestId = ''): Promise<ServedFormula> {
    const { pin, net, meta } = await this.policy();
    const env = this.env;
    const started = performance.now();
    const episode = env.episode(brief, (state) => greedy(net, state), new Random(1));
    const refined = refine(env, brief, episode.units);
    const composition = refined.composition;
    const latencyMs = performance.now() - started;
    if (composition.lines.length === 0) {
      // Only a brief that refuses nearly every material can leave nothing to compose.
      throw new FaiError(ErrorCodes.UNAVAILABLE, `no formula can honour this brief: it refuses or its category excludes every material that could make one (policy ${pin.version}, ${pin.cid})`);
    }
    const policy = { version: pin.version, cid: pin.cid, algorithm: meta.algorithm, shape: meta.shape, evaluationReturn: meta.evaluationReturn };
    const compliance = this.compliance.check(composition.request, 'served');
    const { lines: formula, ...sheet } = formulaSheet(env, brief, composition, compliance);
    const certificate = this.compliance.certificate({ formula: composition.request.formula });
    const forCategory = certificate.categories.find((c) => c.category === compliance.category)!;
    const ifraMaxDosage = {
      category: forCategory.category,
      amendment: certificate.amendment,
      dosagePct: composition.request.dosagePct,
      maxDosagePct: forCategory.maxDosagePct,
      limitedBy: forCategory.limitedBy.map((item) => item.name),
      reason: forCategory.reason,
    };
    const refinement = { policyReward: refined.policyReward, reward: refined.reward.total, evaluations: refined.evaluations, moves: refined.moves, elapsedMs: Math.round(refined.elapsedMs * 100) / 100 };
    const recipe = await this.hub.storeJson('recipe', plainJson({ brief, formula: formula.map(({ material, cas, concentrationPct }) => ({ material, cas, concentrationPct })), policy: { version: pin.version, cid: pin.cid } }), ['served']);
    this.recordServed(pin.cid, meta.algorithm, refined.reward.total);
    this.observe?.({ requestId, brief, latencyMs, reward: refined.reward.total, units: [...refined.units], version: pin.version, cid: pin.cid });
    return { formula, sheet, compliance, ifraMaxDosage, reward: refined.reward, refinement, policy, recipeCid: recipe.cid };
  }
}

/** dag-json has no `undefined`: optional fields a schema left unset are dropped, as JSON would. */
const plainJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
