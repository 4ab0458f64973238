import { resolve } from 'node:path';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { amendmentName, certificateHtml, ComplianceChecker, limitedByText, loadSourceTitles, parseCertificateRequest, type IfraCertificate } from '../../regulation/index.ts';
import { writeFileAtomic } from '../../system/index.ts';
import { ExitCodes } from '../exit-codes.ts';
import { table } from '../table.ts';
import { readFormulaBody } from './check-formula.ts';

export interface CertificateOptions {
  json?: boolean;
  html?: string;
  name?: string;
}

const dosage = (value: number) => `${Number(value.toPrecision(4))}%`;

export function renderCertificate(certificate: IfraCertificate): string {
  const out = [
    `IFRA Certificate of Conformity — ${certificate.name ?? 'unnamed concentrate'}, ${certificate.date}, IFRA ${amendmentName(certificate.amendment)}`,
    'Maximum dosage: % of the concentrate in the finished product (rounded down).',
    '',
    table([
      ['CATEGORY', 'MAX DOSAGE', 'LIMITED BY'],
      ...certificate.categories.map((c) =>
        c.maxDosagePct === null
          ? [c.category, 'unknown', `${c.reason ?? ''}${c.upperBoundPct === null ? '' : ` (at most ${dosage(c.upperBoundPct)})`}`]
          : [c.category, dosage(c.maxDosagePct), c.limitedBy.length === 0 ? 'nothing in the formula' : c.limitedBy.map(limitedByText).join(', ')],
      ),
    ]),
  ];
  if (certificate.specifications.length > 0) {
    out.push('', 'Raw-material specifications it relies on:');
    for (const s of certificate.specifications) out.push(`  line ${s.line} ${s.standard}: ${s.note}`);
  }
  if (certificate.euProhibited.length > 0) {
    out.push('', 'Outside IFRA — prohibited in EU cosmetics (Annex II):');
    for (const p of certificate.euProhibited) out.push(`  line ${p.line} ${p.material}`);
  }
  if (certificate.gaps.length > 0) {
    out.push('', 'Not sourced, so not judged:');
    for (const gap of certificate.gaps) out.push(`  - ${gap}`);
  }
  out.push('', `Sources: ${certificate.sourceIds.join(', ')}`, '');
  return out.join('\n');
}

/** Computes the certificate of a formula file locally (no service needed); --html writes the printable page. */
export async function certificateFile(file: string, options: CertificateOptions, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<number> {
  const { body } = await readFormulaBody(file);
  if (options.name !== undefined) body.name = options.name;
  const request = parseCertificateRequest(body, 'FILE');
  const certificate = new ComplianceChecker().certificate(request);
  if (options.html !== undefined) {
    if (options.html.trim() === '') throw new FaiError(ErrorCodes.VALIDATION, '--html: needs a file name', { field: '--html' });
    const path = resolve(options.html);
    await writeFileAtomic(path, certificateHtml(certificate, loadSourceTitles()));
    if (!options.json) process.stderr.write(`certificate page written to ${path}\n`);
  }
  write(options.json ? `${JSON.stringify(certificate, null, 2)}\n` : renderCertificate(certificate));
  return ExitCodes.OK;
}
