import { readFile, stat, writeFile } from 'node:fs/promises';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import type { ObjectRecord } from '../../hub/index.ts';
import { callService, parseTimeout, readJson, serviceUrl } from '../service-client.ts';
import { table } from '../table.ts';

export interface HubCommandOptions {
  url: string;
  timeout: string;
  json?: boolean;
}

const KINDS = { recipe: 'recipes', feedback: 'feedback', checkpoint: 'checkpoints' } as const;
type Kind = keyof typeof KINDS;

function kindOf(text: string): Kind {
  if (!(text in KINDS)) throw new FaiError(ErrorCodes.VALIDATION, `TYPE: "${text}" is not recipe, feedback or checkpoint`, { field: 'TYPE' });
  return text as Kind;
}

async function readInput(file: string): Promise<Buffer> {
  try {
    if ((await stat(file)).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    return await readFile(file);
  } catch (error) {
    throw new FaiError(ErrorCodes.VALIDATION, `FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { field: 'FILE', cause: error });
  }
}

function renderRecords(records: readonly ObjectRecord[]): string {
  if (records.length === 0) return 'no objects\n';
  return `${table([['CID', 'TYPE', 'SIZE', 'CREATED', 'PINNED', 'TAGS'], ...records.map((r) => [r.cid, r.data_type, String(r.size), r.created_at, r.pinned ? 'yes' : '', r.tags.join(',')])])}\n`;
}

type Write = (text: string | Uint8Array) => void;
const stdout: Write = (text) => process.stdout.write(text);

/** `fai hub put TYPE FILE`: a JSON file for recipe and feedback, any bytes for checkpoint. */
export async function hubPut(type: string, file: string, options: HubCommandOptions & { tags?: string }, write: Write = stdout): Promise<number> {
  const kind = kindOf(type);
  const bytes = await readInput(file);
  if (kind !== 'checkpoint') {
    try {
      JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new FaiError(ErrorCodes.MALFORMED_BODY, `FILE: ${file} is not valid JSON (${(error as Error).message})`, { field: 'FILE' });
    }
  }
  const url = new URL(`/v1/hub/${KINDS[kind]}`, serviceUrl(options.url));
  if (options.tags !== undefined) url.searchParams.set('tags', options.tags);
  const response = await callService(url, {
    method: 'POST',
    body: kind === 'checkpoint' ? new Uint8Array(bytes) : bytes.toString('utf8'),
    contentType: kind === 'checkpoint' ? 'application/octet-stream' : 'application/json',
    operator: true,
    timeoutMs: parseTimeout(options.timeout),
  });
  const record = await readJson<ObjectRecord>(response, url);
  write(options.json ? `${JSON.stringify(record, null, 2)}\n` : `${record.cid}\n`);
  return 0;
}

/** `fai hub get CID`: JSON objects to stdout; a checkpoint's bytes to `--out`. */
export async function hubGet(cid: string, options: HubCommandOptions & { out?: string }, write: Write = stdout): Promise<number> {
  const url = new URL(`/v1/hub/objects/${encodeURIComponent(cid)}`, serviceUrl(options.url));
  const response = await callService(url, { timeoutMs: parseTimeout(options.timeout) });
  if (response.headers.get('content-type')?.startsWith('application/octet-stream')) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (options.out === undefined) {
      throw new FaiError(ErrorCodes.VALIDATION, `--out: ${cid} is a checkpoint (${bytes.length} bytes): name a file to write it to`, { field: '--out' });
    }
    await writeFile(options.out, bytes);
    write(`${bytes.length} bytes written to ${options.out} (sha256 ${response.headers.get('x-fai-checksum-sha256')}, verified by the hub)\n`);
    return 0;
  }
  const body = await readJson<{ record: ObjectRecord; data: unknown }>(response, url);
  const text = `${JSON.stringify(options.json ? body : body.data, null, 2)}\n`;
  if (options.out !== undefined) await writeFile(options.out, text);
  else write(text);
  return 0;
}

export async function hubPin(cid: string, pinned: boolean, options: HubCommandOptions, write: Write = stdout): Promise<number> {
  const url = new URL(`/v1/hub/objects/${encodeURIComponent(cid)}/pin`, serviceUrl(options.url));
  const record = await readJson<ObjectRecord>(await callService(url, { method: pinned ? 'PUT' : 'DELETE', operator: true, timeoutMs: parseTimeout(options.timeout) }), url);
  write(options.json ? `${JSON.stringify(record, null, 2)}\n` : `${record.cid} ${record.pinned ? 'pinned' : 'unpinned'}\n`);
  return 0;
}

export async function hubList(options: HubCommandOptions & { type: string; limit: string }, write: Write = stdout): Promise<number> {
  const url = new URL('/v1/hub/objects', serviceUrl(options.url));
  url.searchParams.set('type', kindOf(options.type));
  url.searchParams.set('limit', options.limit);
  const { objects } = await readJson<{ objects: ObjectRecord[] }>(await callService(url, { timeoutMs: parseTimeout(options.timeout) }), url);
  write(options.json ? `${JSON.stringify(objects, null, 2)}\n` : renderRecords(objects));
  return 0;
}

export async function hubGc(options: HubCommandOptions, write: Write = stdout): Promise<number> {
  const url = new URL('/v1/hub/gc', serviceUrl(options.url));
  const result = await readJson<{ kept: number; removed: number; spared: number; tempRemoved: number }>(await callService(url, { method: 'POST', operator: true, timeoutMs: parseTimeout(options.timeout) }), url);
  write(options.json ? `${JSON.stringify(result)}\n` : `gc: ${result.removed} blocks removed, ${result.kept} kept, ${result.spared} spared (younger than the grace), ${result.tempRemoved} stale temp files removed\n`);
  return 0;
}
