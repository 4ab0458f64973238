import { descriptiveTerms } from './local-model.ts';
import type { SlotName } from './slot.ts';

export const MODES = ['fast', 'balanced', 'creative'] as const;
export type Mode = (typeof MODES)[number];

export interface ModeConfig {
  /** Slots to try in order; the local model answers after them. */
  readonly slots: readonly SlotName[];
  /** The whole brief, retries included, must finish within this. */
  readonly deadlineMs: number;
  readonly attemptTimeoutMs: number;
  readonly temperature: number;
  readonly maxRetries: number;
  /** Cheaper mode a downshift sends this mode's traffic to. */
  readonly downshiftTo: Mode | null;
  /** p95 (ms, over the downshift window) above which the mode downshifts; its recovery bound is RECOVER_BELOW_MS. */
  readonly downshiftAboveMs: number | null;
}

/**
 * Per-mode routing, timeouts and downshift bounds. The bounds come from the thresholds table's
 * brief-latency row: creative downshifts past the critical 5000 ms (it is allowed to be slow),
 * balanced past the warning 3000 ms; both recover below the normal 2000 ms.
 */
export const MODE_CONFIG: Readonly<Record<Mode, ModeConfig>> = {
  fast: { slots: ['mistral', 'llama', 'qwen'], deadlineMs: 2_500, attemptTimeoutMs: 2_000, temperature: 0.2, maxRetries: 1, downshiftTo: null, downshiftAboveMs: null },
  balanced: { slots: ['qwen', 'mistral', 'llama'], deadlineMs: 5_000, attemptTimeoutMs: 4_000, temperature: 0.5, maxRetries: 2, downshiftTo: 'fast', downshiftAboveMs: 3_000 },
  creative: { slots: ['llama', 'qwen', 'mistral'], deadlineMs: 10_000, attemptTimeoutMs: 8_000, temperature: 0.9, maxRetries: 2, downshiftTo: 'balanced', downshiftAboveMs: 5_000 },
};
export const RECOVER_BELOW_MS = 2_000;

const CREATIVE_ASK = /\b(creative|unique|unusual|experimental|avant-garde|surprise me)\b|독특|창의|실험적|색다른|특별한/i;
const FAST_ASK = /\b(quick|quickly|simple|basic|just)\b|간단|빨리|기본/i;

/**
 * The documented routing rule when the caller names no mode: an explicit ask wins ("something
 * unique" → creative, "just a quick…" → fast); otherwise a long or richly described request
 * (more than 240 characters, or 6 or more descriptive terms) is creative, a short plain one (under
 * 60 characters and at most 2 terms) is fast, and the rest is balanced.
 */
export function chooseMode(text: string): Mode {
  if (CREATIVE_ASK.test(text)) return 'creative';
  if (FAST_ASK.test(text)) return 'fast';
  const terms = descriptiveTerms(text);
  if (text.length > 240 || terms >= 6) return 'creative';
  if (text.length < 60 && terms <= 2) return 'fast';
  return 'balanced';
}
