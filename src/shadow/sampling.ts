import { createHash } from 'node:crypto';
export { DEFAULT_RATES, RatesSchema } from '../config/index.ts';

/**
 * Whether a request is shadowed at `rate`: decided by a hash of its request id, so a retried request
 * (same x-request-id) is in or out again, and ids spread evenly whatever their form.
 */
export function sampled(requestId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  const digest = createHash('sha256').update(requestId).digest();
  return digest.readUInt32BE(0) / 2 ** 32 < rate;
}
