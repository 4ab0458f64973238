import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';
import { PinsSchema, type Pins } from '../llm/index.ts';
import type { Deployment } from './deployment.ts';

/** A release: what was promoted — a version label (app version or image tag) and the model pins. */
export interface Release {
  readonly version: string;
  readonly pins: Pins;
  readonly at: string;
  readonly by: string;
}

const ReleasesSchema = z.array(z.object({ version: z.string().min(1), pins: PinsSchema, at: z.string(), by: z.string() }));

/** The release history, `<stateDir>/releases.json`, newest last; written atomically. */
export class ReleaseHistory {
  readonly path: string;

  constructor(deployment: Deployment) {
    this.path = join(deployment.stateDir, 'releases.json');
  }

  async all(): Promise<Release[]> {
    const text = await readFile(this.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '[]';
      throw error;
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new FaiError(ErrorCodes.CONFIG, `release history ${this.path} is not JSON (${(error as Error).message})`);
    }
    return parseOrThrow(ReleasesSchema, json, 'releases', ErrorCodes.CONFIG);
  }

  async write(releases: readonly Release[]): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(releases, null, 2)}\n`);
    await rename(temporary, this.path);
  }
}
