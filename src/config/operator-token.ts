import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';

/**
 * The Authorization header a client of the service's operator routes sends: the operator token from
 * its environment (FAI_ADMIN_TOKEN: `fai`, the runbooks, the remediation loop). Without one, the
 * request goes out bare and the service's 401 says which variable to set.
 */
export function operatorHeaders(env: Readonly<Record<string, string | undefined>> = process.env, onBehalfOf?: string): Record<string, string> {
  const token = env.FAI_ADMIN_TOKEN?.trim();
  if (token === undefined || token === '') return {};
  if (/\s/.test(token)) throw new FaiError(ErrorCodes.CONFIG, 'env.FAI_ADMIN_TOKEN: a bearer token holds no spaces', { field: 'env.FAI_ADMIN_TOKEN' });
  // Whom the request acts for (a runbook the remediation loop runs: `alertmanager (rule NAME)`): the service records it as the actor.
  const actor = onBehalfOf?.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  return { authorization: `Bearer ${token}`, ...(actor === undefined || actor === '' ? {} : { 'x-fai-on-behalf-of': actor }) };
}

/** One named operator: the sha-256 (hex) of the token, never the token itself. */
const OperatorTokensSchema = z
  .object({
    operators: z.array(
      z
        .object({
          name: z.string().trim().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'must be 1–64 letters, digits, dots, dashes, underscores or @'),
          sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the 64-hex sha-256 of the token (printf %s TOKEN | sha256sum)'),
        })
        .strict(),
    ),
  })
  .strict();

/**
 * Named operator tokens: `FAI_OPERATOR_TOKENS_FILE`, JSON `{"operators": [{"name": "alice", "sha256":
 * "<hex of the token's sha-256>"}]}` (ours). Each operator's requests are recorded under their name.
 * The file is read again when it changes (looked at most once a second), so adding or revoking a
 * person needs no restart; a file that no longer parses keeps the last good list (until it parses again).
 */
export class OperatorTokens {
  private readonly file: string;
  private byHash = new Map<string, string>();
  private seen: { mtimeMs: number; size: number; at: number } | undefined;

  constructor(file: string) {
    this.file = file;
  }

  /** Reads the file now; throws naming what is wrong (the service refuses to start with a bad file). */
  async load(): Promise<void> {
    const info = await stat(this.file).catch((error: NodeJS.ErrnoException) => {
      throw new FaiError(ErrorCodes.CONFIG, `env.FAI_OPERATOR_TOKENS_FILE: cannot read ${this.file} (${error.code ?? error.message})`, { field: 'env.FAI_OPERATOR_TOKENS_FILE' });
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(this.file, 'utf8'));
    } catch (error) {
      throw new FaiError(ErrorCodes.CONFIG, `${this.file}: not JSON (${(error as Error).message})`, { field: 'env.FAI_OPERATOR_TOKENS_FILE' });
    }
    const tokens = parseOrThrow(OperatorTokensSchema, parsed, this.file, ErrorCodes.CONFIG);
    const byHash = new Map<string, string>();
    for (const { name, sha256 } of tokens.operators) {
      if (byHash.has(sha256)) throw new FaiError(ErrorCodes.CONFIG, `${this.file}: two operators share one token (${byHash.get(sha256)} and ${name})`, { field: 'env.FAI_OPERATOR_TOKENS_FILE' });
      byHash.set(sha256, name);
    }
    this.byHash = byHash;
    this.seen = { mtimeMs: info.mtimeMs, size: info.size, at: Date.now() };
  }

  /** Re-reads the file if it changed (at most once a second); a bad new version keeps the old list. */
  async refresh(): Promise<void> {
    if (this.seen !== undefined && Date.now() - this.seen.at < 1_000) return;
    const info = await stat(this.file).catch(() => undefined);
    if (info !== undefined && this.seen !== undefined && info.mtimeMs === this.seen.mtimeMs && info.size === this.seen.size) {
      this.seen = { ...this.seen, at: Date.now() };
      return;
    }
    try {
      await this.load();
    } catch {
      // Not looked at again until the file changes once more.
      this.seen = { mtimeMs: info?.mtimeMs ?? 0, size: info?.size ?? 0, at: Date.now() };
    }
  }

  /** The operator a token's sha-256 (hex) names, or undefined. */
  nameOf(sha256Hex: string): string | undefined {
    return this.byHash.get(sha256Hex);
  }

}
