import type { Config } from '../config/index.ts';
import type { FormulaService, ProductionAnswer } from '../learning/index.ts';
import { policyPinOf, type Pins } from '../llm/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { ComparisonLog, type Stage } from './log.ts';
import { ShadowRunner } from './runner.ts';
import { sampled } from './sampling.ts';

/**
 * The live shadow evaluation of POST /v1/formulas: a share of production answers (by stage, decided
 * by the request id) goes to the shadow runner, which runs the pinned teacher and student
 * (`formulation-teacher`, `formulation-student`) beside it and records the comparison. Off while
 * either is not pinned.
 */
export class ShadowEvaluation {
  readonly runner: ShadowRunner;
  readonly log: ComparisonLog;
  private readonly settings: Config['shadow'];
  private readonly pins: () => Pins;
  stage: Stage;

  constructor(options: { settings: Config['shadow']; formulas: FormulaService; pins: () => Pins; metrics?: Metrics; onError?: (error: Error) => void }) {
    this.settings = options.settings;
    this.pins = options.pins;
    this.stage = options.settings.stage;
    this.log = new ComparisonLog(options.settings.dir);
    const { formulas } = options;
    this.runner = new ShadowRunner({
      models: async () => {
        const [teacher, student] = await Promise.all([formulas.policy('formulation-teacher'), formulas.policy('formulation-student')]);
        return { teacher, student };
      },
      log: this.log,
      stage: () => this.stage,
      queueSize: options.settings.queueSize,
      concurrency: options.settings.concurrency,
      timeoutMs: options.settings.timeoutMs,
      nice: options.settings.nice,
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    });
  }

  /** The share of requests shadowed now. */
  get rate(): number {
    return this.settings.rates[this.stage];
  }

  get enabled(): boolean {
    const pins = this.pins();
    return policyPinOf(pins, 'formulation-teacher') !== undefined && policyPinOf(pins, 'formulation-student') !== undefined;
  }

  /** The pins changed: with a teacher and a student pinned, the shadow threads start now rather than on the first sampled request. */
  pinsChanged(): void {
    if (this.enabled) this.runner.start();
  }

  /** Production answered: shadow it if it is sampled. Returns at once, whatever the shadow work costs. */
  consider(answer: ProductionAnswer): void {
    if (!this.enabled || !sampled(answer.requestId, this.rate)) return;
    this.runner.offer(answer);
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
