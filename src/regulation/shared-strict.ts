import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ErrorCodes, FaiError } from '../errors/index.ts';

/** Strict mode forced on, as every instance reads it. */
export interface StrictForce {
  readonly since: string;
  readonly by: string;
}

const ForceSchema = z.object({ since: z.string(), by: z.string() });
const KEY = 'fai:regulation:strict';

/**
 * Forced strict regulation mode shared by every instance through one Redis key
 * (`fai:regulation:strict`, JSON `{since, by}`; absent: not forced): the regulation-strict runbook
 * forcing it through one instance forces it on all, and an instance that starts reads it.
 */
export class SharedStrictMode {
  constructor(private readonly redis: Redis) {}

  private async guard<T>(command: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new FaiError(ErrorCodes.UNAVAILABLE, `redis ${command} (shared strict mode) failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The force, or null; a value that cannot be read is reported (`damaged`) and forces nothing new. */
  async read(): Promise<{ force: StrictForce | null; damaged: boolean }> {
    const text = await this.guard('GET', () => this.redis.get(KEY));
    if (text === null) return { force: null, damaged: false };
    try {
      return { force: ForceSchema.parse(JSON.parse(text)), damaged: false };
    } catch {
      return { force: null, damaged: true };
    }
  }

  async put(force: StrictForce): Promise<void> {
    await this.guard('SET', () => this.redis.set(KEY, JSON.stringify(force)));
  }

  async remove(): Promise<void> {
    await this.guard('DEL', () => this.redis.del(KEY));
  }
}
