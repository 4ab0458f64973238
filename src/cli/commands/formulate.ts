import { resolve } from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { openHub, redisReady } from '../../hub/index.ts';
import { FormulaService, formulaSheetHtml, seedShippedPolicies, type ServedFormula } from '../../learning/index.ts';
import { BriefService, pinStoreFor, type CreativeBrief } from '../../llm/index.ts';
import { ComplianceChecker } from '../../regulation/index.ts';
import { writeFileAtomic } from '../../system/index.ts';
import { ExitCodes } from '../exit-codes.ts';
import { table } from '../table.ts';

/**
 * `fai formulate "text"`: the customer's words → brief → the pinned production policy's picks,
 * repaired by the composer → the formula sheet, all in this process: the same path as POST
 * /v1/formulas (the local hub under HUB_DIR, the shipped models stored into it when pinned and absent).
 */
export async function formulateCommand(text: string, options: { json?: boolean; html?: string; dosage?: string }, write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  if (text.trim() === '') throw new FaiError(ErrorCodes.VALIDATION, 'TEXT: empty; describe the scent you want', { field: 'TEXT' });
  if (text.length > 4000) throw new FaiError(ErrorCodes.VALIDATION, 'TEXT: longer than 4000 characters', { field: 'TEXT' });
  const dosagePct = options.dosage === undefined ? undefined : Number(options.dosage);
  if (dosagePct !== undefined && !(Number.isFinite(dosagePct) && dosagePct > 0 && dosagePct <= 100)) {
    throw new FaiError(ErrorCodes.VALIDATION, `--dosage: "${options.dosage}" is not a percentage above 0 and at most 100 (the concentrate's share of the finished product)`, { field: '--dosage' });
  }
  if (options.html !== undefined && options.html.trim() === '') throw new FaiError(ErrorCodes.VALIDATION, '--html: needs a file name', { field: '--html' });
  const config = loadConfig();
  const opened = openHub(config);
  try {
    // The pins the service serves: in Redis when REDIS_URL is set (seeded from PINS_FILE), else the file.
    if (opened.redis !== undefined) await redisReady(opened.redis, 5_000);
    const pins = await pinStoreFor(config.pinsFile, opened.redis).read();
    await seedShippedPolicies(opened.hub, pins);
    const { brief, model } = await new BriefService({ slots: config.llmSlots }).generate(text);
    const served = await new FormulaService({ hub: opened.hub, compliance: new ComplianceChecker(), pins: () => pins }).compose(brief, '', dosagePct === undefined ? {} : { dosagePct });
    if (options.html !== undefined) {
      const path = resolve(options.html);
      await writeFileAtomic(path, formulaSheetHtml({ ...served.sheet, lines: served.formula, verdict: served.compliance.verdict, maxDosagePct: served.ifraMaxDosage.maxDosagePct }, brief, text));
      if (!options.json) process.stderr.write(`formula sheet written to ${path}\n`);
    }
    write(options.json ? `${JSON.stringify({ brief, briefModel: model, ...served }, null, 2)}\n` : renderFormula(text, brief, served));
    return ExitCodes.OK;
  } finally {
    await opened.close();
  }
}

function dosageWords(dosage: ServedFormula['sheet']['dosage']): string {
  const range = dosage.usualMinPct === null && dosage.usualMaxPct === null ? '' : `, usual ${dosage.usualMinPct ?? '?'}–${dosage.usualMaxPct ?? '?'}%`;
  return dosage.source === 'request' ? `as asked${range}` : dosage.source === 'product' ? `the product's default${range}` : 'not sourced for this product: checked neat';
}

export function renderFormula(text: string, brief: CreativeBrief, served: ServedFormula): string {
  const list = (values: readonly string[]) => (values.length === 0 ? '—' : values.join(', '));
  const n = brief.notesPreference;
  const share = (value: number | null) => (value === null ? '—' : `${Math.round(value * 100)}%`);
  const out = [
    `"${text}"`,
    `  ${served.sheet.product} · IFRA category ${served.sheet.category} · concentrate at ${served.sheet.dosagePct}% (${dosageWords(served.sheet.dosage)}) · families ${list(n.families)} · notes ${list([...n.top, ...n.heart, ...n.base])} · not wanted ${list(brief.forbiddenIngredients)}`,
    '',
    table([
      ['MATERIAL', '% CONC.', '% PRODUCT', 'POSITION', 'FAMILY', 'IFRA LIMIT USED', 'ALLERGENS', 'BY', 'CHARACTER'],
      ...served.formula.map((l) => [l.material, l.concentrationPct.toFixed(2), l.productPct.toFixed(4), l.notePosition, l.odorFamily, share(l.ifraShareOfLimit), list(l.allergens), l.source, l.role ?? 'off-character']),
    ]),
    '',
    `pyramid: top ${served.sheet.pyramid.top}% · heart ${served.sheet.pyramid.heart}% · base ${served.sheet.pyramid.base}%`,
    `IFRA/EU: ${served.compliance.verdict.toUpperCase()} · max dosage in category ${served.ifraMaxDosage.category}: ${served.ifraMaxDosage.maxDosagePct === null ? 'not known' : `${served.ifraMaxDosage.maxDosagePct}%`}${served.ifraMaxDosage.limitedBy.length === 0 ? '' : ` (limited by ${served.ifraMaxDosage.limitedBy.join(', ')})`}`,
    `allergens to declare: ${list(served.sheet.allergensToDeclare.map((a) => `${a.labelName} ${a.productPct}%`))}`,
    ...served.sheet.accords.map((a) => `"${a.note}" is carried by the ${a.accord} (${a.materials.join(', ')})`),
    ...(served.sheet.unavailableNotes.length === 0 ? [] : [`no palette material or accord carries: ${served.sheet.unavailableNotes.join(', ')}`]),
    `character: ${served.character.hasCharacter ? 'yes' : 'NO'} · ${served.character.onCharacterPct}% on-character · fidelity ${served.character.fidelity} · the policy's picks ${served.character.policySharePct}% of the concentrate${served.character.notes.some((n) => !n.present) ? ` · not smelled: ${served.character.notes.filter((n) => !n.present).map((n) => n.note).join(', ')}` : ''}`,
    `reward ${served.reward.total} · ${served.elapsedMs} ms · policy ${served.policy.version} ${served.policy.cid}`,
    '',
  ];
  return out.join('\n');
}
