import type { Metrics } from '../metrics/index.ts';
import type { CreativeBrief } from './brief-schema.ts';
import { DownshiftController } from './downshift.ts';
import { localBriefTrimmed } from './local-model.ts';
import { chooseMode, MODE_CONFIG, type Mode } from './routing.ts';
import { LlmSlot, SlotFailure, type SlotConfig, type SlotName } from './slot.ts';

export interface BriefResult {
  readonly brief: CreativeBrief;
  readonly mode: Mode;
  /** The slot that answered, or `local` for the embedded model. */
  readonly model: SlotName | 'local';
  /** The whole call, retries and fallbacks included. */
  readonly elapsedMs: number;
  readonly downshiftedFrom?: Mode;
  /** Slots that were tried and did not answer, in order, with why. */
  readonly fallbacks: ReadonlyArray<{ readonly model: SlotName; readonly reason: string }>;
  /** What the local model trimmed to fit the schema's bounds (only when it answered, and only if it trimmed). */
  readonly trimmed?: readonly string[];
}

/**
 * The brief layer: picks the mode (the caller's, or the routing rule's), applies any downshift,
 * tries the mode's slots in order — each behind its breaker, with retries and one repair — and
 * falls back to the local model. Every brief is observed in llm_brief_elapsed_ms{mode,model}.
 */
export class BriefService {
  readonly slots: ReadonlyMap<SlotName, LlmSlot>;
  readonly downshift: DownshiftController;
  private readonly metrics: Metrics | undefined;

  constructor(options: { slots?: readonly SlotConfig[]; metrics?: Metrics; downshift?: DownshiftController; slotOptions?: ConstructorParameters<typeof LlmSlot>[1] } = {}) {
    this.metrics = options.metrics;
    this.slots = new Map((options.slots ?? []).map((config) => [config.name, new LlmSlot(config, options.slotOptions)]));
    this.downshift = options.downshift ?? new DownshiftController({ metrics: options.metrics });
  }

  async generate(text: string, requested?: Mode): Promise<BriefResult> {
    const started = performance.now();
    const wanted = requested ?? chooseMode(text);
    const routed = this.downshift.route(wanted);
    const config = MODE_CONFIG[routed.mode];
    const deadline = Date.now() + config.deadlineMs;
    const fallbacks: Array<{ model: SlotName; reason: string }> = [];
    let answer: { brief: CreativeBrief; model: SlotName | 'local'; trimmed?: string[] } | null = null;
    for (const name of config.slots) {
      const slot = this.slots.get(name);
      if (slot === undefined) continue;
      // A slot whose turn comes after the deadline was never tried: it is skipped, not failed (its breaker
      // is untouched — one slow slot must not open the breakers of healthy ones behind it).
      if (Date.now() >= deadline) {
        fallbacks.push({ model: name, reason: 'skipped: the mode deadline was spent before its turn' });
        continue;
      }
      if (!slot.breaker.allow()) {
        this.fallback(fallbacks, name, 'breaker_open', 'circuit breaker open');
        continue;
      }
      const slotStarted = performance.now();
      // Each slot's time is observed under its own name, answered or not: a llama timeout is llama's latency, not that of the model that answered after it.
      const spent = () => this.metrics?.llmBriefElapsedMs.observe({ mode: routed.mode, model: name }, performance.now() - slotStarted);
      try {
        const { brief } = await slot.brief(text, { deadline, attemptTimeoutMs: config.attemptTimeoutMs, temperature: config.temperature, maxRetries: config.maxRetries, modeDeadlineMs: config.deadlineMs });
        slot.breaker.success();
        spent();
        answer = { brief, model: name };
        break;
      } catch (error) {
        const failure = error instanceof SlotFailure ? error : new SlotFailure('unavailable', String(error), false);
        if (!failure.untried) spent();
        if (failure.untried) {
          // The deadline ran out between the check above and its first request: nothing was sent.
          slot.breaker.release();
          fallbacks.push({ model: name, reason: 'skipped: the mode deadline was spent before its turn' });
          continue;
        }
        // Only the backend's faults count against its breaker: a customer's prompt that yields prose, a 4xx,
        // or a deadline an earlier slot spent must not open a healthy backend's breaker.
        if (failure.backendFault) slot.breaker.failure();
        // It answered (prose, a 4xx): the backend is up, whatever the request asked.
        else if (failure.reason === 'invalid_output' || failure.reason === 'http_error') slot.breaker.success();
        else slot.breaker.release();
        this.fallback(fallbacks, name, failure.reason, failure.message);
      }
    }
    if (answer === null) {
      const localStarted = performance.now();
      answer = { ...localBriefTrimmed(text), model: 'local' };
      this.metrics?.llmBriefElapsedMs.observe({ mode: routed.mode, model: 'local' }, performance.now() - localStarted);
    }
    const elapsedMs = performance.now() - started;
    this.metrics?.llmBriefsTotal.inc({ mode: routed.mode, model: answer.model, fallback: fallbacks.length > 0 ? 'true' : 'false' });
    // The downshift judges what the mode's slots did: a brief the local model answered because its slots
    // failed (or their breakers were open) is a miss, recorded at the mode's deadline — never a fast
    // sample that declares an outage recovered. A mode with no slot configured records nothing.
    const hasSlots = config.slots.some((name) => this.slots.has(name));
    if (answer.model !== 'local') this.downshift.record(routed.mode, elapsedMs);
    else if (hasSlots) this.downshift.record(routed.mode, Math.max(elapsedMs, config.deadlineMs));
    return {
      brief: answer.brief,
      mode: routed.mode,
      model: answer.model,
      elapsedMs: Math.round(elapsedMs * 100) / 100,
      ...(routed.from === undefined ? {} : { downshiftedFrom: routed.from }),
      fallbacks,
      ...(answer.trimmed === undefined || answer.trimmed.length === 0 ? {} : { trimmed: answer.trimmed }),
    };
  }

  private fallback(list: Array<{ model: SlotName; reason: string }>, model: SlotName, reason: SlotFailure['reason'], detail: string): void {
    list.push({ model, reason: `${reason}: ${detail}` });
    this.metrics?.llmFallbackTotal.inc({ from_model: model, reason });
  }
}
