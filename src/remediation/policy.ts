import { z } from 'zod';
import { readJsonFile } from '../config/index.ts';
import { RUNBOOKS, type RunbookName } from '../ops/index.ts';

/**
 * The remediation policy (`configs/remediation.yml`, REMEDIATION_POLICY): which alert, at which
 * severity, starts which runbook with which arguments, in which mode; the budgets that bound how
 * often each runbook may act; how long a notification is remembered for deduplication.
 */
export const MODES = ['off', 'dry-run', 'on'] as const;
export type Mode = (typeof MODES)[number];
export const SEVERITIES = ['warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const UNIT_SECONDS = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

/** "90s", "10m", "24h", "7d" → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (match === null) throw new Error(`"${text}" is not a duration like 30s, 10m, 24h or 7d`);
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}

const Duration = z.string().transform((text, ctx) => {
  try {
    const seconds = parseDuration(text);
    if (seconds <= 0) throw new Error(`"${text}" must be longer than 0`);
    return seconds;
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const RuleSchema = z
  .object({
    alert: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an alert name (letters, digits, _)'),
    severity: z.union([z.enum(SEVERITIES), z.array(z.enum(SEVERITIES)).min(1)]).default(['warning', 'critical']).transform((s) => (Array.isArray(s) ? s : [s])),
    runbook: z.enum(RUNBOOKS, { error: `must be one of ${RUNBOOKS.join(', ')}` }),
    /** A string argument may name alert labels as Alertmanager templates do: `{{ $labels.mode }}` (filled when the alert arrives). */
    args: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    mode: z.enum(MODES, { error: `must be one of ${MODES.join(', ')}` }),
    /** Also page the people: an alert posted to Alertmanager, routed to the critical receiver. */
    page: z.boolean().default(false),
  })
  .strict();

const BudgetSchema = z
  .object({
    /** At most `count` runs started in any `window`. */
    limits: z.array(z.object({ count: z.number().int().min(1), window: Duration }).strict()).default([]),
    /** After a run ends, no run of the same runbook starts for this long. */
    cooldown: Duration.optional(),
  })
  .strict();

export const PolicySchema = z
  .object({
    /** A notification (fingerprint + start) seen within this long is a repeat, not a new alert. */
    dedupWindow: Duration.prefault('7d'),
    /** Budgets for runbooks not named under `budgets`. */
    defaultBudget: BudgetSchema.prefault({ limits: [{ count: 1, window: '10m' }], cooldown: '10m' }),
    budgets: z.partialRecord(z.enum(RUNBOOKS), BudgetSchema).default({}),
    rules: z.array(RuleSchema),
  })
  .strict()
  .superRefine((policy, ctx) => {
    const seen = new Set<string>();
    policy.rules.forEach((rule, i) => {
      for (const severity of rule.severity) {
        const key = `${rule.alert}/${severity}/${rule.runbook}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['rules', i], message: `${rule.alert} (${severity}) → ${rule.runbook} is listed twice` });
        seen.add(key);
      }
    });
  });

export type Policy = z.infer<typeof PolicySchema>;
export type PolicyRule = Policy['rules'][number];
export type Budget = z.infer<typeof BudgetSchema>;

export const DEFAULT_POLICY_FILE = 'configs/remediation.yml';

export function readPolicy(file = DEFAULT_POLICY_FILE): Promise<Policy> {
  return readJsonFile(file, PolicySchema, `remediation policy ${file}`, { field: 'REMEDIATION_POLICY' });
}

/** The rules an alert at this severity matches, in the policy's order. */
export function rulesFor(policy: Policy, alert: string, severity: string): PolicyRule[] {
  return policy.rules.filter((rule) => rule.alert === alert && (rule.severity as readonly string[]).includes(severity));
}

export function budgetFor(policy: Policy, runbook: RunbookName): Budget {
  return policy.budgets[runbook] ?? policy.defaultBudget;
}

const LABEL_TEMPLATE = /\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/**
 * A rule's arguments for one alert: each `{{ $labels.NAME }}` in a string argument replaced by the
 * alert's label. A label the alert lacks makes the arguments unusable (`missing` names it): acting
 * on a guess would act on the wrong thing.
 */
export function renderArgs(args: Readonly<Record<string, string | number | boolean>>, labels: Readonly<Record<string, string>>): { args: Record<string, string | number | boolean> } | { missing: string } {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(args)) {
    if (typeof value !== 'string') {
      out[key] = value;
      continue;
    }
    let missing: string | undefined;
    out[key] = value.replace(LABEL_TEMPLATE, (_, name: string) => {
      const label = labels[name];
      if (label === undefined) missing ??= name;
      return label ?? '';
    });
    if (missing !== undefined) return { missing: `argument ${key} needs the alert's label ${missing}, which it does not carry` };
  }
  return { args: out };
}

