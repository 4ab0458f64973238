import { escapeHtml } from '../html/index.ts';
import { amendmentName, limitedByText, type CertificateCategory, type IfraCertificate } from './certificate-types.ts';

/**
 * The certificate as a page to print on A4 and send: the formula's name, the date, the amendment,
 * one row per IFRA category (maximum dosage and what limits it), the specifications the raw
 * materials must meet, what the data could not judge, and the sources. Self-contained: no request
 * leaves the page. The composition itself is not printed (a certificate does not disclose it).
 */
export function certificateHtml(certificate: IfraCertificate, sourceTitles: ReadonlyMap<string, string> = new Map()): string {
  const name = certificate.name ?? 'Unnamed fragrance concentrate';
  const rows = certificate.categories.map(categoryRow).join('\n');
  const list = (items: readonly string[]) => (items.length === 0 ? '<p>None.</p>' : `<ul>${items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`);
  const specifications = [...new Map(certificate.specifications.map((s) => [s.standard, `${s.standard}: ${s.note}`])).values()];
  const eu = certificate.euProhibited.map((p) => `${p.material}: prohibited in cosmetic products by Regulation (EC) No 1223/2009, Annex II${p.entry === null ? '' : ` entry ${p.entry}`}`);
  const sources = certificate.sourceIds.map((id) => `${id}${sourceTitles.has(id) ? ` — ${sourceTitles.get(id)!}` : ''}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>IFRA Certificate — ${escapeHtml(name)}</title>
<style>
@page { size: A4; margin: 14mm 14mm 16mm; }
* { box-sizing: border-box; }
body { font: 10pt/1.35 "DejaVu Sans", Arial, sans-serif; color: #111; margin: 0 auto; max-width: 182mm; padding: 8mm 0; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 11pt; margin: 5mm 0 1.5mm; border-bottom: 0.3mm solid #999; }
.meta { display: grid; grid-template-columns: 38mm 1fr; gap: 0.5mm 3mm; margin: 2mm 0 3mm; }
.meta dt { color: #555; } .meta dd { margin: 0; font-weight: 600; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 9pt; }
th, td { border: 0.2mm solid #bbb; padding: 1mm 1.5mm; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #eee; }
col.cat { width: 17mm; } col.desc { width: 70mm; } col.max { width: 26mm; }
td.max { text-align: right; font-weight: 600; white-space: nowrap; }
td.unknown { color: #a00; }
tr { break-inside: avoid; }
ul { margin: 0; padding-left: 5mm; } li { margin: 0.5mm 0; }
.small { font-size: 8pt; color: #444; }
@media print { body { padding: 0; } }
</style>
</head>
<body>
<h1>IFRA Certificate of Conformity</h1>
<dl class="meta">
<dt>Product</dt><dd id="name">${escapeHtml(name)}</dd>
<dt>Date</dt><dd id="date">${escapeHtml(certificate.date)}</dd>
<dt>IFRA Standards</dt><dd id="amendment">${amendmentName(certificate.amendment)}</dd>
</dl>
<p>We certify that the above fragrance concentrate complies with the IFRA Standards of the ${amendmentName(certificate.amendment)}, provided it is used in the following product categories at a maximum concentration of:</p>
<table id="categories">
<colgroup><col class="cat"><col class="desc"><col class="max"><col></colgroup>
<thead><tr><th>Category</th><th>Products</th><th>Max. dosage</th><th>Limited by</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<h2>Raw-material specifications this certificate relies on</h2>
${list(specifications)}
<h2>Outside IFRA</h2>
${list(eu)}
<h2>Not judged (not sourced in the data)</h2>
${list(certificate.gaps)}
<h2>Sources</h2>
${list(sources)}
<p class="small">Maximum dosage: % of this concentrate in the finished product, rounded down. The individual IFRA Standards prevail over this summary; the limits are a sourced secondary copy and must be checked against the current IFRA Standards before commercial use. A dash marks a category whose maximum cannot be stated because a limit it needs is not sourced.</p>
</body>
</html>
`;
}

function dosage(value: number): string {
  return `${value.toLocaleString('en', { maximumSignificantDigits: 4 })} %`;
}

function categoryRow(category: CertificateCategory): string {
  const cells =
    category.maxDosagePct === null
      ? `<td class="max unknown">—</td><td class="unknown">${escapeHtml(category.reason ?? '')}${category.upperBoundPct === null ? '' : ` (at most ${dosage(category.upperBoundPct)})`}</td>`
      : `<td class="max">${dosage(category.maxDosagePct)}</td><td>${category.limitedBy.length === 0 ? 'nothing in the formula' : escapeHtml(category.limitedBy.map(limitedByText).join(', '))}</td>`;
  return `<tr data-category="${escapeHtml(category.category)}"><td>${escapeHtml(category.category)}</td><td>${escapeHtml(category.description)}</td>${cells}</tr>`;
}
