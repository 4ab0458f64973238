import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { CloudHub } from '../hub/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { POLICY_PIN, policyPinOf, type CreativeBrief, type PolicyPinName, type Pins } from '../llm/index.ts';
import { limitedByText, type ComplianceChecker, type ComplianceResult } from '../regulation/index.ts';
import type { CheckpointMeta } from './checkpoint.ts';
import type { BriefContext, Composition } from './composer.ts';
import { FormulationEnv, type RewardBreakdown } from './environment.ts';
import { greedy } from './evaluate.ts';
import { formulaSheet, type FormulaSheet, type SheetLine } from './formula-sheet.ts';
import { PolicyStore, type LoadedPolicy, type PolicyStatus } from './policy-store.ts';
import { Random } from './random.ts';
import { ReturnAverages } from './reinforce.ts';

/** What production answered, as the shadow evaluation needs it. */
export interface ProductionAnswer {
  readonly requestId: string;
  readonly brief: CreativeBrief;
  /** The dosage the request gave, if any (the shadow models compose for the same dosage). */
  readonly dosagePct?: number;
  /** The policy's greedy episode and the composer (forward passes, formula steps, repairs), ms. */
  readonly latencyMs: number;
  readonly reward: number;
  /** Units per palette index (the policy's picks). */
  readonly units: ReadonlyArray<readonly [number, number]>;
  /** The served formula: % of the concentrate per palette index. */
  readonly composed: ReadonlyArray<readonly [number, number]>;
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
  /** The formula's character against the brief (character.ts): on-character share, named notes smelled, fidelity, the criterion. */
  readonly character: {
    readonly onCharacterPct: number;
    readonly offCharacterOverLimit: readonly string[];
    readonly notes: ReadonlyArray<{ readonly note: string; readonly present: boolean; readonly accord: string | null }>;
    readonly fidelity: number;
    readonly hasCharacter: boolean;
    /** % of the concentrate the policy's picks make up (the rest are the composer's repairs). */
    readonly policySharePct: number;
  };
  /** The time the policy and the composer took for this formula, ms. */
  readonly elapsedMs: number;
  readonly policy: { version: string; cid: string; algorithm: CheckpointMeta['algorithm']; shape: readonly number[]; heldOutReturn: number };
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
        for (const window of ['100', '1000']) this.metrics?.rlRewardMa.remove({ algorithm: this.served.algorithm, window, source: 'served', job_id: 'served' });
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
  async compose(brief: CreativeBrief, requestId = '', options: { dosagePct?: number } = {}): Promise<ServedFormula> {
    const { pin, net, meta } = await this.policy();
    const env = this.env;
    const started = performance.now();
    // The brief's context is worked out once and handed to every step: the episode, the composer, the reward, the sheet.
    const context = env.prepare(brief, options);
    const played = env.play(context, (state) => greedy(net, state), new Random(1), { keepStates: false });
    const composition = played.composition;
    const elapsedMs = performance.now() - started;
    const episode = { ...played, reward: env.reward(context, composition) };
    if (composition.lines.length === 0) {
      // Only a brief that refuses nearly every material can leave nothing to compose.
      throw new FaiError(ErrorCodes.UNAVAILABLE, `no formula can honour this brief: it refuses or its category excludes every material that could make one (policy ${pin.version}, ${pin.cid})`);
    }
    const policy = { version: pin.version, cid: pin.cid, algorithm: meta.algorithm, shape: meta.shape, heldOutReturn: meta.evaluationReturn };
    const compliance = this.compliance.check(composition.request, 'served');
    const { lines: formula, ...sheet } = formulaSheet(env, context, composition, compliance);
    const certificate = this.compliance.certificate({ formula: composition.request.formula });
    const forCategory = certificate.categories.find((c) => c.category === compliance.category)!;
    const ifraMaxDosage = {
      category: forCategory.category,
      amendment: certificate.amendment,
      dosagePct: composition.request.dosagePct,
      maxDosagePct: forCategory.maxDosagePct,
      limitedBy: forCategory.limitedBy.map(limitedByText),
      reason: forCategory.reason,
    };
    const character = characterOf(env, context, composition);
    const recipe = await this.hub.storeJson('recipe', plainJson({ brief, dosagePct: context.dosagePct, formula: formula.map(({ material, cas, concentrationPct }) => ({ material, cas, concentrationPct })), policy: { version: pin.version, cid: pin.cid } }), ['served']);
    this.recordServed(pin.cid, meta.algorithm, episode.reward.total);
    if (this.observe !== undefined) {
      const composed = composition.lines.map((l) => [l.index, l.pct] as const);
      this.observe({ requestId, brief, ...(options.dosagePct === undefined ? {} : { dosagePct: options.dosagePct }), latencyMs: elapsedMs, reward: episode.reward.total, units: [...episode.units], composed, version: pin.version, cid: pin.cid });
    }
    return { formula, sheet, compliance, ifraMaxDosage, reward: episode.reward, character, elapsedMs: Math.round(elapsedMs * 100) / 100, policy, recipeCid: recipe.cid };
  }
}

/** The served formula's character reading, as the answer shows it. */
function characterOf(env: FormulationEnv, context: BriefContext, composition: Composition): ServedFormula['character'] {
  const reading = env.character(context, composition);
  const policyShare = composition.lines.reduce((sum, l) => sum + (l.added ? 0 : l.pct), 0);
  return {
    onCharacterPct: reading.onCharacterPct,
    offCharacterOverLimit: reading.offCharacterOverLimit.map((i) => env.palette[i]!.name),
    notes: reading.notes.map(({ note, present, accord }) => ({ note, present, accord })),
    fidelity: Math.round(reading.fidelity * 1000) / 1000,
    hasCharacter: reading.hasCharacter,
    policySharePct: Math.round(policyShare * 100) / 100,
  };
}

/** dag-json has no `undefined`: optional fields a schema left unset are dropped, as JSON would. */
const plainJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
