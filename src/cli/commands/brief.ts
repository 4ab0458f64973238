import { loadConfig } from '../../config/index.ts';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { BriefService, MODES, type Mode } from '../../llm/index.ts';
import { ExitCodes } from '../exit-codes.ts';

/**
 * `fai brief "text"`: the brief layer in this process, with the slots the environment configures
 * (LLM_*_URL) — with none, the embedded local model answers.
 */
export async function briefCommand(text: string, options: { mode?: string; json?: boolean }, write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  if (text.trim() === '') throw new FaiError(ErrorCodes.VALIDATION, 'TEXT: empty; describe the scent you want', { field: 'TEXT' });
  if (text.length > 4000) throw new FaiError(ErrorCodes.VALIDATION, 'TEXT: longer than 4000 characters', { field: 'TEXT' });
  if (options.mode !== undefined && !(MODES as readonly string[]).includes(options.mode)) {
    throw new FaiError(ErrorCodes.VALIDATION, `--mode: "${options.mode}" is not one of ${MODES.join(', ')}`, { field: '--mode' });
  }
  const config = loadConfig();
  const result = await new BriefService({ slots: config.llmSlots }).generate(text, options.mode as Mode | undefined);
  if (options.json) {
    write(`${JSON.stringify(result, null, 2)}\n`);
    return ExitCodes.OK;
  }
  const b = result.brief;
  const list = (values: readonly string[]) => (values.length === 0 ? '—' : values.join(', '));
  write(
    [
      `mode ${result.mode}${result.downshiftedFrom ? ` (downshifted from ${result.downshiftedFrom})` : ''}, model ${result.model}, ${result.elapsedMs} ms`,
      `  language        ${b.language}`,
      `  mood            ${list(b.mood)}`,
      `  season          ${list(b.season)}`,
      `  families        ${list(b.notesPreference.families)}`,
      `  notes           top ${list(b.notesPreference.top)} · heart ${list(b.notesPreference.heart)} · base ${list(b.notesPreference.base)}`,
      `  not wanted      ${list(b.forbiddenIngredients)}`,
      `  product         ${b.productCategory} · budget ${b.budgetTier} · ${b.targetProfile}`,
      `  constraints     ${list(b.constraints)}`,
      `  hints           ${list(b.creativeHints)}`,
      ...result.fallbacks.map((f) => `  fell back from ${f.model}: ${f.reason}`),
      '',
    ].join('\n'),
  );
  return ExitCodes.OK;
}
