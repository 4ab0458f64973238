import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../system/index.ts';
import { readJsonFile } from '../config/index.ts';
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

  all(): Promise<Release[]> {
    return readJsonFile(this.path, ReleasesSchema, 'releases', { missing: [] });
  }

  async write(releases: readonly Release[]): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await writeFileAtomic(this.path, `${JSON.stringify(releases, null, 2)}\n`);
  }
}
