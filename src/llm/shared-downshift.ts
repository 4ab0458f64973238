import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { MODES, type Mode } from './routing.ts';

/** A forced downshift as every instance reads it. */
export interface ForcedEntry {
  readonly by: string;
  /** Epoch ms it was first forced (a renewal keeps it). */
  readonly since: number;
  /** Epoch ms it lapses unless renewed; null: until cleared. */
  readonly expiresAt: number | null;
}

const EntrySchema = z.object({ by: z.string(), since: z.number(), expiresAt: z.number().nullable() });
const KEY = 'fai:llm:downshift:forced';

/**
 * Forced downshifts shared by every instance through one Redis hash (`fai:llm:downshift:forced`,
 * field = mode, value = JSON): a runbook or an operator forcing a mode on one instance forces it on
 * all, and an instance that starts (or restarts) reads it. The automatic downshift stays each
 * instance's own: it judges the latency that instance sees.
 */
export class SharedDownshifts {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  private async guard<T>(command: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new FaiError(ErrorCodes.UNAVAILABLE, `redis ${command} (shared downshift state) failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Every forced mode, and the fields that could not be read: a damaged field forces nothing (the
   * instances serve the mode itself until the next force replaces it), and the caller says so.
   */
  async read(): Promise<{ forced: Map<Mode, ForcedEntry>; damaged: string[] }> {
    const fields = await this.guard('HGETALL', () => this.redis.hgetall(KEY));
    const forced = new Map<Mode, ForcedEntry>();
    const damaged: string[] = [];
    for (const [mode, text] of Object.entries(fields)) {
      try {
        if (!(MODES as readonly string[]).includes(mode)) throw new Error('not a mode');
        forced.set(mode as Mode, EntrySchema.parse(JSON.parse(text)));
      } catch {
        damaged.push(mode);
      }
    }
    return { forced, damaged };
  }

  async put(mode: Mode, entry: ForcedEntry): Promise<void> {
    await this.guard('HSET', () => this.redis.hset(KEY, mode, JSON.stringify(entry)));
  }

  async remove(mode: Mode): Promise<void> {
    await this.guard('HDEL', () => this.redis.hdel(KEY, mode));
  }

  /**
   * Removes `mode` only while its entry still ends at `expiresAt` (not a renewal written meanwhile):
   * true for the one instance whose call removed it, so one lapse is audited once.
   */
  async removeLapsed(mode: Mode, expiresAt: number): Promise<boolean> {
    const removed = await this.guard('EVAL', () =>
      this.redis.eval(
        "local v = redis.call('hget', KEYS[1], ARGV[1]) if v and cjson.decode(v)['expiresAt'] == tonumber(ARGV[2]) then return redis.call('hdel', KEYS[1], ARGV[1]) else return 0 end",
        1,
        KEY,
        mode,
        String(expiresAt),
      ),
    );
    return removed === 1;
  }
}
