import { pollEvery } from '../system/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { loadSourceTitles, RegulatoryCatalogue } from './catalogue.ts';
import { ifraCertificate } from './certificate.ts';
import type { CertificateRequest, IfraCertificate } from './certificate-types.ts';
import { checkFormula, type CheckAnswer, type CheckRequest } from './check.ts';
import { recordCheck, type CheckSource } from './record-check.ts';
import type { SharedStrictMode } from './shared-strict.ts';

export { isValidCas, looksLikeCas } from './cas.ts';
export {
  euMaximumIn,
  loadSourceTitles,
  RegulatoryCatalogue,
  normalizeName,
  prohibitionOf,
  slug,
  type CatalogueSources,
  type CategoryLimit,
  type CombinationGroup,
  type UnappliedRule,
  type EuAllergen,
  type EuMaximum,
  type IfraStandard,
  type ResolvedMaterial,
  type StandardType,
} from './catalogue.ts';
export { floorSignificant, ifraCertificate } from './certificate.ts';
export { amendmentName, limitedByText, type CertificateCategory, type CertificateRequest, type IfraCertificate, type LimitingItem } from './certificate-types.ts';
export { certificateHtml } from './certificate-html.ts';
export { type CategoryUse, type ProductCategory } from './categories.ts';
export {
  CheckAnswer,
  checkFormula,
  defaultExposure,
  WARNING_SHARE,
  worse,
  type AllergenResult,
  type CheckRequest,
  type CheckType,
  type CombinationResult,
  type ComplianceResult,
  type ConstituentResult,
  type Exposure,
  type FormulaLine,
  type MaterialResult,
  type SpecificationResult,
  type StandardVerdict,
  type Verdict,
} from './check.ts';
export { naturalContents, type NaturalContents, type StandardShare } from './naturals.ts';
export { recordCheck, type CheckSource } from './record-check.ts';
export { SharedStrictMode, type StrictForce } from './shared-strict.ts';
export {
  CertificateRequestSchema,
  certificateRequestOf,
  CheckRequestSchema,
  checkRequestOf,
  MAX_FORMULA_LINES,
  normalizeCategory,
  parseCertificateRequest,
  parseCheckRequest,
  parseFormulaCsv,
} from './request.ts';

/** The regulation capability as the service uses it: checks formulas and moves the regulation metrics. */
export class ComplianceChecker {
  readonly catalogue: RegulatoryCatalogue;
  private readonly metrics: Metrics | undefined;
  private readonly strictByDefault: boolean;
  /** Strict mode forced on at run time (the regulation-strict runbook, after an IFRA incident): no request can opt out. */
  private forced: { since: string; by: string } | null = null;

  constructor(options: { catalogue?: RegulatoryCatalogue; metrics?: Metrics; strict?: boolean } = {}) {
    this.catalogue = options.catalogue ?? RegulatoryCatalogue.load();
    this.metrics = options.metrics;
    this.strictByDefault = options.strict ?? false;
  }

  /** Forces strict mode on (every check strict, whatever the request says) or lifts that, on this instance. */
  forceStrict(on: boolean, by: string): void {
    if (!on) this.forced = null;
    else if (this.forced === null) this.forced = { since: new Date().toISOString(), by };
  }

  private shared: SharedStrictMode | undefined;
  private polling: { stop(): void } | undefined;

  /**
   * Forces or lifts strict mode on every instance: through the shared state when there is one (a
   * Redis failure answers 503 and changes nothing), then here. Without it, this instance only.
   */
  async setStrict(on: boolean, by: string): Promise<void> {
    if (this.shared !== undefined) {
      if (on) await this.shared.put(this.forced ?? { since: new Date().toISOString(), by });
      else await this.shared.remove();
    }
    this.forceStrict(on, by);
  }

  /**
   * Shares forced strict mode through `shared`: read now and every `pollMs` (a force or a lift on
   * another instance reaches this one within it; a started instance starts with it). A read that
   * fails keeps the last known state — strict mode stays enforced while Redis is unreachable — and
   * `onError` hears it.
   */
  share(shared: SharedStrictMode, options: { pollMs?: number; onError?: (error: unknown) => void } = {}): Promise<void> {
    this.shared = shared;
    const sync = async () => {
      const { force, damaged } = await shared.read();
      if (damaged) options.onError?.(new Error('the shared strict mode could not be read: this instance keeps the state it had'));
      else this.forced = force;
    };
    const polling = pollEvery(sync, options.pollMs ?? 1_000, options.onError);
    this.polling = polling;
    return polling.first;
  }

  stopSharing(): void {
    this.polling?.stop();
    this.polling = undefined;
  }

  mode(): { strictByDefault: boolean; forced: boolean; since: string | null; by: string | null } {
    return { strictByDefault: this.strictByDefault, forced: this.forced !== null, since: this.forced?.since ?? null, by: this.forced?.by ?? null };
  }

  /** Checks a formula; `source` says whether the service proposed it (`served`) or a customer asked (`check`). */
  check(request: CheckRequest, source: CheckSource = 'check'): CheckAnswer {
    const result = checkFormula(this.catalogue, {
      formula: request.formula,
      category: request.category,
      dosagePct: request.dosagePct,
      exposure: request.exposure,
      strict: this.forced !== null || (request.strict ?? this.strictByDefault),
    });
    if (this.metrics !== undefined) recordCheck(this.metrics, result, source);
    return result;
  }

  /** The IFRA Certificate of Conformity of a concentrate: its maximum dosage in each of the 18 categories. */
  certificate(request: CertificateRequest): IfraCertificate {
    return ifraCertificate(this.catalogue, request);
  }

  /** Source id → title (data/sources.md), read on first use: for the certificate page. */
  sourceTitles(): ReadonlyMap<string, string> {
    this.titles ??= loadSourceTitles();
    return this.titles;
  }

  private titles: ReadonlyMap<string, string> | undefined;
}
