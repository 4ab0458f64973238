import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { CloudHub, ObjectRecord } from '../hub/index.ts';
import { Mlp } from './mlp.ts';
import { Random } from './random.ts';

/**
 * A policy checkpoint as bytes: the magic `FAICKPT1`, a little-endian uint32 header length, the
 * header as JSON (algorithm, network shape, config hash, evaluation return), padding to a multiple
 * of 4, then every layer's weights and biases as little-endian float32. A self-describing binary
 * layout rather than JSON numbers: float32 round-trips exactly and the file stays ~4 bytes a weight.
 * (No library of the field fits a bare MLP: ONNX and safetensors need native or foreign tooling.)
 */
const MAGIC = 'FAICKPT1';

export const CheckpointMetaSchema = z.object({
  algorithm: z.enum(['ppo', 'reinforce', 'hybrid', 'distilled']),
  /** Layer sizes, input first. */
  shape: z.array(z.number().int().positive()).min(2),
  /** sha256 of the training configuration (canonical JSON), hex. */
  configHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Mean greedy return on the training briefs when the checkpoint was taken. */
  evaluationReturn: z.number().finite(),
});
export type CheckpointMeta = z.infer<typeof CheckpointMetaSchema>;

/** sha256 of a configuration object, keys sorted at every level so the hash ignores key order. */
export function configHash(config: Record<string, unknown>): string {
  const canonical = (value: unknown): unknown =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
      : value;
  return createHash('sha256').update(JSON.stringify(canonical(config))).digest('hex');
}

/** The network's parameter arrays in file order: each layer's weights, then its biases. */
function parameterArrays(net: Mlp): Float32Array[] {
  return net.weights.flatMap((w, l) => [w, net.biases[l]!]);
}

export function encodeCheckpoint(net: Mlp, meta: Omit<CheckpointMeta, 'shape'>): Uint8Array {
  const header = Buffer.from(JSON.stringify(CheckpointMetaSchema.parse({ ...meta, shape: [...net.sizes] })), 'utf8');
  const headerEnd = 12 + header.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const arrays = parameterArrays(net);
  const floats = arrays.reduce((n, a) => n + a.length, 0);
  const out = Buffer.alloc(dataStart + floats * 4);
  out.write(MAGIC, 0, 'ascii');
  out.writeUInt32LE(header.length, 8);
  header.copy(out, 12);
  let offset = dataStart;
  for (const array of arrays) for (const x of array) offset = out.writeFloatLE(x, offset);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

const invalid = (why: string) => new FaiError(ErrorCodes.VALIDATION, `checkpoint: ${why}`, { field: 'checkpoint' });

export function decodeCheckpoint(bytes: Uint8Array): { meta: CheckpointMeta; net: Mlp } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buffer.length < 12 || buffer.toString('ascii', 0, 8) !== MAGIC) throw invalid(`not a policy checkpoint (it does not start with ${MAGIC})`);
  const headerLength = buffer.readUInt32LE(8);
  if (12 + headerLength > buffer.length) throw invalid(`header of ${headerLength} bytes runs past the end of ${buffer.length} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(buffer.toString('utf8', 12, 12 + headerLength));
  } catch {
    throw invalid('header is not JSON');
  }
  const parsed = CheckpointMetaSchema.safeParse(header);
  if (!parsed.success) throw invalid(`header: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  const meta = parsed.data;
  const net = new Mlp(meta.shape, new Random(1));
  const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
  const arrays = parameterArrays(net);
  const floats = arrays.reduce((n, a) => n + a.length, 0);
  if (buffer.length !== dataStart + floats * 4) {
    throw invalid(`shape ${meta.shape.join('-')} needs ${floats} weights, the file holds ${Math.max(0, (buffer.length - dataStart) / 4)}`);
  }
  let offset = dataStart;
  arrays.forEach((array, a) => {
    for (let i = 0; i < array.length; i++, offset += 4) {
      const x = buffer.readFloatLE(offset);
      if (!Number.isFinite(x)) throw invalid(`layer ${Math.floor(a / 2)} holds a non-finite weight`);
      array[i] = x;
    }
  });
  return { meta, net };
}

/** Stores a checkpoint in the Cloud Hub, its metadata also in the record's tags (listable without a restore). */
export function saveCheckpoint(hub: CloudHub, net: Mlp, meta: Omit<CheckpointMeta, 'shape'>): Promise<ObjectRecord> {
  return storeCheckpointBytes(hub, encodeCheckpoint(net, meta));
}

/** Stores checkpoint bytes (checked to be one) with their metadata as tags; the same bytes always get the same CID. */
export function storeCheckpointBytes(hub: CloudHub, bytes: Uint8Array, extraTags: readonly string[] = []): Promise<ObjectRecord> {
  const { meta } = decodeCheckpoint(bytes);
  return hub.storeBytes(bytes, [`algorithm:${meta.algorithm}`, `shape:${meta.shape.join('-')}`, `config:${meta.configHash.slice(0, 16)}`, `return:${meta.evaluationReturn.toFixed(3)}`, ...extraTags]);
}

/** Restores a checkpoint from the hub; the hub verifies every block against its CID and the content against its checksum. */
export async function loadCheckpoint(hub: CloudHub, cid: string): Promise<{ meta: CheckpointMeta; net: Mlp; record: ObjectRecord }> {
  const retrieved = await hub.retrieve(cid);
  if (retrieved.bytes === undefined) throw invalid(`${cid} is a ${retrieved.record.data_type}, not a checkpoint`);
  return { ...decodeCheckpoint(retrieved.bytes), record: retrieved.record };
}
