/**
 * CAS Registry Numbers: `NNNNNNN-NN-N`, the last digit a checksum (the sum of
 * the other digits, each weighted by its position from the right, mod 10).
 * Validating the checksum lets the data loader drop stray tokens and tells a
 * mistyped CAS in a formula from a real one.
 */
const CAS_SHAPE = /^(\d{2,7})-(\d{2})-(\d)$/;

export function isValidCas(text: string): boolean {
  const match = CAS_SHAPE.exec(text.trim());
  if (match === null) return false;
  const digits = `${match[1]}${match[2]}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[digits.length - 1 - i]) * (i + 1);
  return sum % 10 === Number(match[3]);
}

/** True for text shaped like a CAS number (whether or not its checksum holds). */
export function looksLikeCas(text: string): boolean {
  return CAS_SHAPE.test(text.trim());
}

/** The valid CAS numbers in a data cell (`;`-separated, sometimes with stray words). */
export function casNumbersIn(cell: string): string[] {
  return cell
    .split(/[;,\s]+/)
    .map((token) => token.trim())
    .filter(isValidCas);
}
