import OpenAI from 'openai';
import { briefJsonSchema, CreativeBriefSchema, type CreativeBrief } from './brief-schema.ts';
import { backoffMs, CircuitBreaker, RetryBudget, retryAfterMs } from './resilience.ts';

export const LLM_SLOT_NAMES = ['qwen', 'mistral', 'llama'] as const;
export type SlotName = (typeof LLM_SLOT_NAMES)[number];

/** Why a slot did not answer: the `reason` label of llm_fallback_total. */
export type FailureReason = 'breaker_open' | 'timeout' | 'unavailable' | 'http_error' | 'invalid_output';

export class SlotFailure extends Error {
  readonly reason: FailureReason;
  readonly retryable: boolean;
  /** No request reached the backend (the deadline had passed before the first one): not the slot's failure. */
  readonly untried: boolean;
  /**
   * Whether the backend is at fault — a timeout of a full attempt, a 5xx, a connection error — and
   * so counts against its breaker. Invalid output (a prompt can ask for prose), a 4xx (the request's),
   * and a timeout only because the mode's deadline left the attempt less than its own timeout (an
   * earlier slot spent it) are the request's: they open no breaker.
   */
  readonly backendFault: boolean;
  constructor(reason: FailureReason, message: string, retryable: boolean, untried = false, backendFault = reason === 'timeout' || reason === 'unavailable') {
    super(message);
    this.reason = reason;
    this.retryable = retryable;
    this.untried = untried;
    this.backendFault = backendFault && !untried;
  }
}

export interface SlotConfig {
  readonly name: SlotName;
  readonly baseUrl: string;
  /** The model name the endpoint serves (vLLM's --served-model-name, an Ollama tag…). */
  readonly model: string;
  readonly apiKey?: string | undefined;
}

/** The most tokens a brief's answer may take (the schema's largest brief is well under half of it). */
export const MAX_BRIEF_TOKENS = 1_024;

export interface Attempt {
  readonly attemptTimeoutMs: number;
  readonly deadline: number;
  readonly temperature: number;
  readonly maxRetries: number;
  /** The mode's whole deadline: a slot that starts with less of it left than a full attempt was short-changed by the slots before it. */
  readonly modeDeadlineMs?: number;
}

const SYSTEM_PROMPT = [
  'You turn a customer description of a perfume into a creative brief.',
  'Answer with one JSON object and nothing else, valid against this JSON Schema:',
  JSON.stringify(briefJsonSchema()),
  'Write notes and forbidden ingredients in English. Use only the enum values the schema lists.',
].join('\n');

function classify(error: unknown): SlotFailure {
  if (error instanceof SlotFailure) return error;
  // A timed-out attempt is not retried on the same backend: it is slow now, and the next slot has the rest of the deadline.
  if (error instanceof OpenAI.APIConnectionTimeoutError) return new SlotFailure('timeout', 'the backend did not answer in time', false);
  if (error instanceof OpenAI.APIConnectionError) return new SlotFailure('unavailable', `cannot reach the backend: ${error.message}`, true);
  if (error instanceof OpenAI.APIError) {
    const status = error.status ?? 0;
    // A 5xx is the backend's fault; a 429 is retried (it is busy) but is a 4xx: the breaker does not count it.
    return new SlotFailure(status === 429 || status >= 500 ? 'unavailable' : 'http_error', `HTTP ${status}: ${error.message}`, status === 429 || status >= 500, false, status >= 500);
  }
  return new SlotFailure('unavailable', error instanceof Error ? error.message : String(error), true);
}

function parseBrief(content: string | null | undefined): { brief: CreativeBrief } | { problem: string } {
  if (content === null || content === undefined || content.trim() === '') return { problem: 'the answer is empty' };
  let json: unknown;
  try {
    json = JSON.parse(content.trim().replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch (error) {
    return { problem: `the answer is not JSON (${(error as Error).message})` };
  }
  const parsed = CreativeBriefSchema.safeParse(json);
  if (parsed.success) return { brief: parsed.data };
  return { problem: parsed.error.issues.slice(0, 8).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}

/**
 * One LLM slot: an OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp's server) reached through
 * the `openai` client, behind its own circuit breaker. Retries (with jitter) only what may succeed
 * on a retry — timeouts, refused connections, 429 and 5xx — within the caller's deadline; output
 * that does not validate gets one repair request, and then the slot gives up.
 */
export class LlmSlot {
  readonly config: SlotConfig;
  readonly breaker: CircuitBreaker;
  private readonly client: OpenAI;
  private readonly sleep: (ms: number) => Promise<void>;

  readonly retryBudget: RetryBudget;

  constructor(config: SlotConfig, options: { breaker?: CircuitBreaker; sleep?: (ms: number) => Promise<void>; retryBudget?: RetryBudget } = {}) {
    this.config = config;
    this.breaker = options.breaker ?? new CircuitBreaker();
    this.retryBudget = options.retryBudget ?? new RetryBudget();
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    // Retries are ours (bounded by the mode's deadline): the client's own are off.
    this.client = new OpenAI({ baseURL: config.baseUrl, apiKey: config.apiKey ?? 'unused', maxRetries: 0, timeout: 60_000 });
  }

  private async request(messages: OpenAI.Chat.ChatCompletionMessageParam[], attempt: Attempt, shortChanged: boolean): Promise<string | null> {
    const remaining = attempt.deadline - Date.now();
    if (remaining <= 0) throw new SlotFailure('timeout', 'the mode deadline passed', false, false, !shortChanged);
    // A slot the earlier slots left less than a full attempt: a timeout within that leftover is the request's, not the backend's.
    const cutByDeadline = shortChanged && remaining < attempt.attemptTimeoutMs;
    try {
      const completion = await this.client.chat.completions.create(
        // A brief is a few hundred tokens: a bound keeps a runaway generation from holding the slot until the timeout.
        { model: this.config.model, messages, temperature: attempt.temperature, response_format: { type: 'json_object' }, max_tokens: MAX_BRIEF_TOKENS },
        { timeout: Math.min(attempt.attemptTimeoutMs, remaining), maxRetries: 0 },
      );
      return completion.choices[0]?.message?.content ?? null;
    } catch (error) {
      if (cutByDeadline && error instanceof OpenAI.APIConnectionTimeoutError) {
        throw new SlotFailure('timeout', `the mode deadline left this attempt ${remaining} ms, under its ${attempt.attemptTimeoutMs} ms timeout`, false, false, false);
      }
      throw error;
    }
  }

  /** One call with retries; resolves with a valid brief and how it was obtained. */
  async brief(text: string, attempt: Attempt): Promise<{ brief: CreativeBrief; retries: number; repaired: boolean }> {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: text },
    ];
    let retries = 0;
    if (attempt.deadline <= Date.now()) throw new SlotFailure('timeout', 'the mode deadline passed before the first request', false, true);
    this.retryBudget.request();
    const full = Math.min(attempt.attemptTimeoutMs, attempt.modeDeadlineMs ?? Number.POSITIVE_INFINITY);
    // A few ms of slack: the first slot starts a moment after the deadline was set.
    const shortChanged = attempt.deadline - Date.now() < full - 50;
    for (;;) {
      try {
        const content = await this.request(messages, attempt, shortChanged);
        const first = parseBrief(content);
        if ('brief' in first) return { brief: first.brief, retries, repaired: false };
        // One repair: show the model what was wrong with its own answer.
        const repair = parseBrief(
          await this.request(
            [...messages, { role: 'assistant', content: content ?? '' }, { role: 'user', content: `That JSON is not valid: ${first.problem}. Answer again with only the corrected JSON object.` }],
            attempt,
            shortChanged,
          ),
        );
        if ('brief' in repair) return { brief: repair.brief, retries, repaired: true };
        throw new SlotFailure('invalid_output', `output still invalid after one repair: ${repair.problem}`, false);
      } catch (error) {
        const failure = classify(error);
        // A 429's Retry-After is the backend's own word on when to come back: waited, or (past the deadline) not retried.
        const asked = error instanceof OpenAI.APIError && error.status === 429 ? retryAfterMs(error.headers?.get('retry-after')) : undefined;
        const wait = asked ?? backoffMs(retries, 100, 1_000);
        if (!failure.retryable || retries >= attempt.maxRetries || Date.now() + wait >= attempt.deadline) throw failure;
        if (!this.retryBudget.tryRetry()) throw new SlotFailure(failure.reason, `${failure.message} (not retried: the slot's retry budget is spent)`, false, false, failure.backendFault);
        retries++;
        await this.sleep(wait);
      }
    }
  }

  /** The endpoint as it may be shown (health, logs): credentials in the URL replaced by `***`. */
  get publicUrl(): string {
    return redactUrl(this.config.baseUrl);
  }

  /** GET /v1/models on the endpoint: up or down, with the probe's latency. */
  async probe(timeoutMs = 2_000): Promise<{ status: 'up' | 'down'; latencyMs: number; detail: string }> {
    const started = performance.now();
    try {
      const models = await this.client.models.list({ timeout: timeoutMs, maxRetries: 0 });
      const ids = models.data.map((m) => m.id);
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      return { status: 'up', latencyMs, detail: ids.includes(this.config.model) ? `serves ${this.config.model}` : `answers, but does not list ${this.config.model} (lists ${ids.slice(0, 5).join(', ')})` };
    } catch (error) {
      // An error message may quote the URL it failed on, credentials and all.
      return { status: 'down', latencyMs: Math.round((performance.now() - started) * 10) / 10, detail: classify(error).message.replaceAll(this.config.baseUrl, this.publicUrl) };
    }
  }
}

/** A URL with any `user:password@` (or `user@`) replaced by `***@`; text that is not a URL is returned as it is. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.username === '' && url.password === '') return text;
    url.username = '***';
    url.password = '';
    return url.toString().replace(/\/$/, text.endsWith('/') ? '/' : '');
  } catch {
    return text.replace(/\/\/[^/@\s]*@/g, '//***@');
  }
}
