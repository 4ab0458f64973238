import { escapeHtml } from '../html/index.ts';
import type { CreativeBrief } from '../llm/index.ts';
import type { Position } from './composer.ts';
import type { FormulaSheet } from './formula-sheet.ts';

/**
 * The formula sheet as a page: the brief in a line, the olfactive pyramid drawn as an inline SVG
 * (top, heart, base tiers, each as wide as its share of the concentrate, its materials written in
 * it), and the table a perfumer reads — material, % of the concentrate, % in the product, position,
 * family, share of its IFRA limit, allergens to declare. Self-contained, no script: it prints.
 */
export function formulaSheetHtml(sheet: FormulaSheet & { readonly verdict?: string; readonly maxDosagePct?: number | null }, brief: CreativeBrief, title = 'Formula'): string {
  const list = (values: readonly string[]) => (values.length === 0 ? '—' : values.join(', '));
  const n = brief.notesPreference;
  const rows = sheet.lines
    .map(
      (line) =>
        `<tr data-position="${line.notePosition}"><td>${escapeHtml(line.material)}</td><td class="num">${line.concentrationPct.toFixed(2)}</td><td class="num">${line.productPct.toFixed(4)}</td><td>${line.notePosition}</td><td>${escapeHtml(line.odorFamily)}</td><td class="num">${line.ifraShareOfLimit === null ? '—' : `${Math.round(line.ifraShareOfLimit * 100)} %`}</td><td>${escapeHtml(list(line.allergens))}</td><td>${line.source}</td><td>${line.role ?? 'off-character'}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>
@page { size: A4; margin: 14mm; }
body { font: 10pt/1.4 "DejaVu Sans", Arial, sans-serif; color: #111; max-width: 190mm; margin: 0 auto; padding: 8mm 0; }
h1 { font-size: 15pt; margin: 0 0 2mm; }
.brief { color: #444; margin-bottom: 4mm; }
table { width: 100%; border-collapse: collapse; font-size: 9pt; margin-top: 4mm; }
th, td { border: 0.2mm solid #bbb; padding: 1mm 1.5mm; text-align: left; }
th { background: #eee; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr[data-position="top"] td:first-child { border-left: 2mm solid #f2c14e; }
tr[data-position="heart"] td:first-child { border-left: 2mm solid #e07a9b; }
tr[data-position="base"] td:first-child { border-left: 2mm solid #8c6a4f; }
.foot { font-size: 8.5pt; color: #444; margin-top: 3mm; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div class="brief">${escapeHtml(`${sheet.product} (IFRA category ${sheet.category}, concentrate at ${sheet.dosagePct} % of the product: ${dosageText(sheet)}) · families ${list(n.families)} · notes ${list([...n.top, ...n.heart, ...n.base])} · not wanted ${list(brief.forbiddenIngredients)}`)}</div>
${pyramidSvg(sheet)}
<table id="formula">
<thead><tr><th>Material</th><th>% concentrate</th><th>% product</th><th>Position</th><th>Family</th><th>IFRA limit used</th><th>Allergens to declare</th><th>Chosen by</th><th>Character</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p class="foot">${sheet.verdict === undefined ? '' : `IFRA/EU verdict: <b>${escapeHtml(sheet.verdict)}</b>. `}${sheet.maxDosagePct === undefined ? '' : `Maximum dosage in category ${escapeHtml(sheet.category)}: ${sheet.maxDosagePct === null ? 'not known (a limit is not sourced)' : `${sheet.maxDosagePct} %`}. `}Allergens to declare on the label: ${escapeHtml(list(sheet.allergensToDeclare.map((a) => `${a.labelName} ${a.productPct} %${a.carriedBy.length === 0 ? '' : ` (carried by ${a.carriedBy.map((c) => `${c.material}: ${c.productPct} %, ${c.basis}`).join('; ')})`}`)))}.${sheet.restrictedCarried.length === 0 ? '' : ` IFRA-restricted substances its naturals carry (every line counted): ${escapeHtml(sheet.restrictedCarried.map(carriedText).join('; '))}.`}${sheet.accords.map((a) => ` “${escapeHtml(a.note)}” is carried by the ${escapeHtml(a.accord)} (${escapeHtml(a.materials.join(', '))}).`).join('')}${sheet.unavailableNotes.length === 0 ? '' : ` No palette material or accord carries: ${escapeHtml(sheet.unavailableNotes.join(', '))}.`}</p>
</body>
</html>
`;
}

/** "Citral 0.45 % (limit 0.6 %): Lemongrass oil, East Indian 0.45 %". */
function carriedText(c: FormulaSheet['restrictedCarried'][number]): string {
  const limit = c.limitPct === null ? 'limit not sourced' : `limit ${c.limitPct} %`;
  return `${c.substance} ${c.productPct} % (${limit}): ${c.carriedBy.map((s) => `${s.material} ${s.productPct} %`).join(' + ')}`;
}

/** How the dosage was chosen, in words. */
function dosageText(sheet: FormulaSheet): string {
  const { dosage } = sheet;
  const range = dosage.usualMinPct === null && dosage.usualMaxPct === null ? 'no usual range sourced' : `usual ${dosage.usualMinPct ?? '?'}–${dosage.usualMaxPct ?? '?'} %`;
  if (dosage.source === 'request') return `as requested; ${range}`;
  if (dosage.source === 'product') return `the product's usual default; ${range}`;
  return 'no usual dosage sourced for this product, so checked as the neat concentrate';
}

const COLOURS: Record<Position, string> = { top: '#f2c14e', heart: '#e07a9b', base: '#8c6a4f' };

/** Three tiers, top narrowest by convention of the drawing; each labelled with its share and its strongest materials. */
function pyramidSvg(sheet: FormulaSheet): string {
  const width = 600;
  const tier = 70;
  const tiers: Position[] = ['top', 'heart', 'base'];
  const shapes = tiers.map((position, k) => {
    const topWidth = 120 + k * 160;
    const bottomWidth = topWidth + 160;
    const y = 10 + k * tier;
    const x = (w: number) => (width - w) / 2;
    const names = sheet.lines.filter((l) => l.notePosition === position).slice(0, 4).map((l) => l.material);
    return `<g class="tier" data-position="${position}"><polygon points="${x(topWidth)},${y} ${x(topWidth) + topWidth},${y} ${x(bottomWidth) + bottomWidth},${y + tier - 4} ${x(bottomWidth)},${y + tier - 4}" fill="${COLOURS[position]}" opacity="${0.35 + Math.min(0.6, sheet.pyramid[position] / 100)}"/><text x="${width / 2}" y="${y + 28}" text-anchor="middle" font-size="13" font-weight="bold">${position} ${sheet.pyramid[position].toFixed(1)} %</text><text x="${width / 2}" y="${y + 47}" text-anchor="middle" font-size="10">${escapeHtml(names.join(' · '))}</text></g>`;
  });
  return `<svg id="pyramid" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${10 + 3 * tier}" width="100%" role="img" aria-label="olfactive pyramid">${shapes.join('')}</svg>`;
}
