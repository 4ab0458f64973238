import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { z } from 'zod';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';

/**
 * Reads a JSON configuration file (YAML when the name ends in .yml or .yaml) and validates it: an
 * unreadable file, malformed JSON/YAML or a bad value is a FAI_ERR_CONFIG naming the file (and, for a
 * bad value, the path inside it).
 * `missing` is returned instead of failing when the file does not exist, if given.
 */
export async function readJsonFile<S extends z.ZodType>(file: string, schema: S, label: string, options: { field?: string; missing?: unknown } = {}): Promise<z.infer<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && 'missing' in options) return parseOrThrow(schema, options.missing, label, ErrorCodes.CONFIG);
    throw new FaiError(ErrorCodes.CONFIG, `${label}: cannot read ${file} (${code ?? String(error)})`, { field: options.field ?? label, cause: error });
  }
  let json: unknown;
  const yaml = ['.yml', '.yaml'].includes(extname(file));
  try {
    // The YAML parser is loaded only for a YAML file: most files are JSON, and a one-shot command should not pay for it.
    json = yaml ? (await import('yaml')).parse(text) : JSON.parse(text);
  } catch (error) {
    throw new FaiError(ErrorCodes.CONFIG, `${label}: ${file} is not ${yaml ? 'YAML' : 'JSON'} (${(error as Error).message.split('\n')[0]})`, { field: options.field ?? label });
  }
  return parseOrThrow(schema, json, label, ErrorCodes.CONFIG);
}
