import { appendFile, mkdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorCodes, FaiError } from '../errors/index.ts';

import { STAGES, type Stage } from '../config/index.ts';

export { STAGES, type Stage } from '../config/index.ts';

/** A stage named on a command line (`--stage`); anything else is a usage error naming the flag. */
export function parseStage(text: string, field = '--stage'): Stage {
  if (!(STAGES as readonly string[]).includes(text)) throw new FaiError(ErrorCodes.VALIDATION, `${field}: "${text}" is not one of ${STAGES.join(', ')}`, { field });
  return text as Stage;
}

const ModelResult = z.object({
  latencyMs: z.number().finite().nonnegative(),
  reward: z.number().finite(),
  version: z.string(),
  cid: z.string(),
});

/** One shadow comparison: production's answer beside the teacher's and the student's for the same brief. */
export const ComparisonSchema = z.object({
  id: z.string().min(1),
  at: z.string(),
  stage: z.enum(STAGES),
  source: z.enum(['live', 'offline']),
  requestId: z.string().optional(),
  /** The brief as the environment reads it (brief-distribution.ts briefKey): comparisons of one brief are one pair, not repeats. */
  briefKey: z.string().min(1),
  /** Which model ran first (drawn per comparison). */
  first: z.enum(['teacher', 'student']),
  /** What the composer alone makes of the brief: each model's lift is its reward minus this. */
  baseline: z.number().finite(),
  production: ModelResult,
  teacher: ModelResult,
  student: ModelResult,
  /** Mean KL(teacher ‖ student) of the action distributions over the teacher's states. */
  klDivergence: z.number().finite().nonnegative(),
  /** Cosine similarity of the teacher's and the student's composed formulas (% of the concentrate over the palette). */
  cosineSimilarity: z.number().finite(),
  /** Cosine similarity of each model's composed formula to production's. */
  productionCosine: z.object({ teacher: z.number().finite(), student: z.number().finite() }),
  /** Teacher latency ÷ student latency. */
  speedup: z.number().finite().positive(),
});
export type Comparison = z.infer<typeof ComparisonSchema>;

/**
 * Comparisons as JSON lines in `<dir>/comparisons.jsonl`, rotated by size: when a line would take the
 * file past `maxBytes`, it becomes `comparisons.1.jsonl` (the older ones move up one; `keep` are kept).
 * Writes are serialized, so lines never interleave; lines that arrive during a write go out together
 * in the next one.
 */
export class ComparisonLog {
  readonly file: string;
  private chain: Promise<void> = Promise.resolve();
  /** Lines waiting for the next write: appends that arrive while one is written go out together. */
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;
  /** The current file's size, read once and then kept: no stat per line. */
  private size: number | undefined;

  constructor(
    readonly dir: string,
    private readonly options: { maxBytes?: number; keep?: number } = {},
  ) {
    this.file = join(dir, 'comparisons.jsonl');
  }

  private rotated(k: number): string {
    return join(this.dir, `comparisons.${k}.jsonl`);
  }

  /** Appends a comparison; resolves once its line is written. */
  append(comparison: Comparison): Promise<void> {
    this.pending.push(`${JSON.stringify(comparison)}\n`);
    this.flushing ??= this.chain.then(() => this.flush());
    return this.flushing;
  }

  private async flush(): Promise<void> {
    const lines = this.pending;
    this.pending = [];
    this.flushing = undefined;
    const next = (async () => {
      await mkdir(this.dir, { recursive: true });
      this.size ??= await stat(this.file).then((s) => s.size, () => 0);
      const maxBytes = this.options.maxBytes ?? 10 * 1024 * 1024;
      // Rotation falls between lines: each file stays under maxBytes unless one line alone is larger.
      let batch = '';
      for (const line of lines) {
        const bytes = Buffer.byteLength(line);
        if (this.size + Buffer.byteLength(batch) > 0 && this.size + Buffer.byteLength(batch) + bytes > maxBytes) {
          if (batch !== '') await appendFile(this.file, batch);
          await this.rotate();
          this.size = 0;
          batch = '';
        }
        batch += line;
      }
      if (batch !== '') {
        await appendFile(this.file, batch);
        this.size += Buffer.byteLength(batch);
      }
    })();
    // A failed write does not stop the next one (its size is read again).
    this.chain = next.catch(() => {
      this.size = undefined;
    });
    return next;
  }

  private async rotate(): Promise<void> {
    const keep = this.options.keep ?? 5;
    for (let k = keep - 1; k >= 1; k--) await rename(this.rotated(k), this.rotated(k + 1)).catch(() => undefined);
    await rename(this.file, this.rotated(1));
  }

  /** Every kept comparison, oldest first; lines that do not parse (a torn last line after a crash) are counted, not returned. */
  async readAll(): Promise<{ comparisons: Comparison[]; skipped: number }> {
    await this.flushing?.catch(() => undefined);
    await this.chain;
    const keep = this.options.keep ?? 5;
    const files = [...Array.from({ length: keep }, (_, k) => this.rotated(keep - k)), this.file];
    const comparisons: Comparison[] = [];
    let skipped = 0;
    for (const file of files) {
      const read = parseComparisonLines(await readFile(file, 'utf8').catch(() => ''));
      comparisons.push(...read.comparisons);
      skipped += read.skipped;
    }
    return { comparisons, skipped };
  }
}

/** Comparisons from JSON lines (a log file, or a report's inputs from the hub); lines that do not parse are counted. */
export function parseComparisonLines(text: string): { comparisons: Comparison[]; skipped: number } {
  const comparisons: Comparison[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = ComparisonSchema.safeParse(JSON.parse(line));
      if (parsed.success) comparisons.push(parsed.data);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { comparisons, skipped };
}
