import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';
import type { Deployment } from './deployment.ts';
import type { Runbook } from './engine.ts';

/** `configs/model_pins.json`: a flat object, model → version (DESIGN.md). */
const VERSION = /^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;
const PinsSchema = z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'model names are lower-case words'), z.string().regex(VERSION, 'must be a version like 2.5.1'));
export type Pins = z.infer<typeof PinsSchema>;

export async function readPins(file: string): Promise<Pins> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new FaiError(ErrorCodes.CONFIG, `pins: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`, { field: 'deployment.pinsFile', cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FaiError(ErrorCodes.CONFIG, `pins: ${file} is not JSON (${(error as Error).message})`, { field: 'deployment.pinsFile' });
  }
  return parseOrThrow(PinsSchema, json, 'pins', ErrorCodes.CONFIG);
}

/** Written to a temporary file and renamed over the old one: a reader sees the old pins or the new, never half. */
export async function writePins(file: string, pins: Pins): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(pins, null, 2)}\n`);
  await rename(temporary, file);
}

export interface PinUpdateArgs extends Record<string, unknown> {
  model?: string;
  version?: string;
  list?: boolean;
}

export function pinUpdateRunbook(deployment: Deployment): Runbook<PinUpdateArgs> {
  return {
    name: 'pin-update',
    description: 'set one model pin in configs/model_pins.json (--model --version), validated and written atomically; --list shows the pins',
    destructive: false,
    plan: async ({ model, version, list }) => {
      const before = await readPins(deployment.pinsFile);
      if (list) {
        return { summary: Object.entries(before).map(([m, v]) => `${m} ${v}`), steps: [], verify: async () => 'pins listed, nothing changed' };
      }
      if (model === undefined || version === undefined) throw new FaiError(ErrorCodes.VALIDATION, '--model and --version are both required (or --list)', { field: model === undefined ? '--model' : '--version' });
      if (!(model in before)) throw new FaiError(ErrorCodes.NOT_FOUND, `--model: "${model}" is not pinned (pinned: ${Object.keys(before).join(', ')})`, { field: '--model' });
      if (!VERSION.test(version)) throw new FaiError(ErrorCodes.VALIDATION, `--version: "${version}" is not a version like 2.5.1`, { field: '--version' });
      const after = { ...before, [model]: version };
      if (before[model] === version) return { summary: [`nothing to change: ${model} is already ${version}`], steps: [], verify: async () => `${model} ${version}` };
      return {
        summary: [`${deployment.pinsFile}: ${model} ${before[model]} → ${version}`],
        steps: [{ describe: `pin ${model} to ${version}`, apply: () => writePins(deployment.pinsFile, after), undo: () => writePins(deployment.pinsFile, before) }],
        verify: async () => {
          const now = await readPins(deployment.pinsFile);
          if (now[model] !== version) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `pins file says ${model} ${now[model]}`);
          return `${deployment.pinsFile} reads ${model} ${version}`;
        },
      };
    },
  };
}
