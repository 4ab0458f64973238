import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { CloudHub, ObjectRecord } from '../hub/index.ts';
import { Mlp } from './mlp.ts';
import { Random } from './random.ts';

/**
 * A policy checkpoint as bytes: the magic `FAICKPT2`, a little-endian uint32 header length, the
 * header as JSON (algorithm, network shape, the action head's feature blocks, config hash, evaluation
 * return, and the **world** it was trained in), padding to a multiple of 4, then every layer's
 * weights and biases and the action head as little-endian float32. A self-describing binary layout
 * rather than JSON numbers: float32 round-trips exactly and the file stays ~4 bytes a weight. (No
 * library of the field fits a bare MLP: ONNX and safetensors need native or foreign tooling.)
 *
 * The world is what the actions and inputs mean: a fingerprint of the palette (its CAS numbers in
 * order: action i is palette row i), of the state layout, and the reward's version. A checkpoint
 * from another world is refused on load, naming what changed — reordering a palette row must not
 * silently change what every pinned model picks. The file's length is checked against the header's
 * shape before anything is allocated, and a loaded net holds no optimizer state.
 */
const MAGIC = 'FAICKPT2';
/** A header longer than this is not a checkpoint's (ours are under 1 KB). */
const MAX_HEADER_BYTES = 64 * 1024;

export const WorldSchema = z
  .object({
    /** sha256 (hex, first 16) of the palette's CAS numbers in order. */
    palette: z.string().regex(/^[0-9a-f]{16}$/),
    /** sha256 (hex, first 16) of the state layout's description (environment.ts stateLayout). */
    stateLayout: z.string().regex(/^[0-9a-f]{16}$/),
    reward: z.string().min(1).max(64),
  })
  .strict();
export type World = z.infer<typeof WorldSchema>;

export const CheckpointMetaSchema = z
  .object({
    algorithm: z.enum(['ppo', 'reinforce', 'hybrid', 'distilled']),
    /** Layer sizes, input first. */
    shape: z.array(z.number().int().positive()).min(2).max(8),
    /** Length of the input (the state): the first layer reads its first shape[0] numbers. */
    inputs: z.number().int().positive(),
    /** Offsets in the input of the per-action feature blocks the action head reads (mlp.ts). */
    actionFeatures: z.array(z.number().int().min(0)).max(16),
    /** sha256 of the training configuration (canonical JSON), hex. */
    configHash: z.string().regex(/^[0-9a-f]{64}$/),
    /** Mean greedy return on the held-out briefs (never trained on) when the checkpoint was taken: what /health/policy shows. */
    evaluationReturn: z.number().finite(),
    world: WorldSchema,
  })
  .strict();
export type CheckpointMeta = z.infer<typeof CheckpointMetaSchema>;

const short = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** The world of an environment: what its actions and inputs mean (see above). */
export function worldOf(env: { readonly palette: ReadonlyArray<{ readonly cas: string }>; readonly layout: { readonly description: string } }, rewardVersion: string): World {
  return { palette: short(env.palette.map((m) => m.cas).join(',')), stateLayout: short(env.layout.description), reward: rewardVersion };
}

/** Refuses a checkpoint made in another world, naming what changed. */
export function assertSameWorld(meta: CheckpointMeta, world: World): void {
  const changed = (['palette', 'stateLayout', 'reward'] as const).filter((k) => meta.world[k] !== world[k]);
  if (changed.length === 0) return;
  const what = { palette: 'the palette (its materials or their order: what each action picks)', stateLayout: 'the state layout (what each input means)', reward: 'the reward' };
  throw invalid(`made for another world: ${changed.map((k) => `${what[k]} changed (${meta.world[k]} → ${world[k]})`).join('; ')}; retrain it (make train-default, or fai train)`);
}

/** sha256 of a configuration object, keys sorted at every level so the hash ignores key order. */
export function configHash(config: Record<string, unknown>): string {
  const canonical = (value: unknown): unknown =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
      : value;
  return createHash('sha256').update(JSON.stringify(canonical(config))).digest('hex');
}

/** The network's parameter arrays in file order: each layer's weights, then its biases, then the action head. */
function parameterArrays(net: Mlp): Float32Array[] {
  return [...net.weights.flatMap((w, l) => [w, net.biases[l]!]), net.head];
}

/** How many float32 parameters a shape and head hold (a safe integer or Infinity: never allocated to find out). */
function parameterCount(shape: readonly number[], headSize: number): number {
  let floats = headSize;
  for (let l = 0; l < shape.length - 1; l++) floats += shape[l]! * shape[l + 1]! + shape[l + 1]!;
  return Number.isSafeInteger(floats) ? floats : Infinity;
}

export function encodeCheckpoint(net: Mlp, meta: Omit<CheckpointMeta, 'shape' | 'actionFeatures' | 'inputs'>): Uint8Array {
  const header = Buffer.from(JSON.stringify(CheckpointMetaSchema.parse({ ...meta, shape: [...net.sizes], inputs: net.inputSize, actionFeatures: [...net.actionFeatures] })), 'utf8');
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

/**
 * Reads checkpoint bytes. With `world`, a checkpoint made for another world is refused. The header's
 * shape is checked against the file's length before the network is allocated.
 */
export function decodeCheckpoint(bytes: Uint8Array, world?: World): { meta: CheckpointMeta; net: Mlp } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buffer.length >= 8 && buffer.toString('ascii', 0, 8) === 'FAICKPT1') throw invalid('a FAICKPT1 checkpoint, made before policies knew their world (palette, state layout, reward) and before the character reward: retrain it (make train-default, or fai train)');
  if (buffer.length < 12 || buffer.toString('ascii', 0, 8) !== MAGIC) throw invalid(`not a policy checkpoint (it does not start with ${MAGIC})`);
  const headerLength = buffer.readUInt32LE(8);
  if (headerLength > MAX_HEADER_BYTES) throw invalid(`header of ${headerLength} bytes is longer than any checkpoint's (${MAX_HEADER_BYTES})`);
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
  const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
  const floats = parameterCount(meta.shape, meta.actionFeatures.length);
  if (buffer.length !== dataStart + floats * 4) {
    throw invalid(`shape ${meta.shape.join('-')} needs ${floats} weights, the file holds ${Math.max(0, (buffer.length - dataStart) / 4)}`);
  }
  if (world !== undefined) assertSameWorld(meta, world);
  let net: Mlp;
  try {
    net = new Mlp(meta.shape, new Random(1), { actionFeatures: meta.actionFeatures, inputSize: meta.inputs });
  } catch (error) {
    throw invalid((error as Error).message);
  }
  const arrays = parameterArrays(net);
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
export function saveCheckpoint(hub: CloudHub, net: Mlp, meta: Omit<CheckpointMeta, 'shape' | 'actionFeatures' | 'inputs'>): Promise<ObjectRecord> {
  return storeCheckpointBytes(hub, encodeCheckpoint(net, meta));
}

/** Stores checkpoint bytes (checked to be one) with their metadata as tags; the same bytes always get the same CID. */
export function storeCheckpointBytes(hub: CloudHub, bytes: Uint8Array, extraTags: readonly string[] = []): Promise<ObjectRecord> {
  const { meta } = decodeCheckpoint(bytes);
  return hub.storeBytes(bytes, [`algorithm:${meta.algorithm}`, `shape:${meta.shape.join('-')}`, `config:${meta.configHash.slice(0, 16)}`, `return:${meta.evaluationReturn.toFixed(3)}`, ...extraTags]);
}

/** Restores a checkpoint from the hub; the hub verifies every block against its CID and the content against its checksum. */
export async function loadCheckpoint(hub: CloudHub, cid: string, world?: World): Promise<{ meta: CheckpointMeta; net: Mlp; record: ObjectRecord }> {
  const retrieved = await hub.retrieve(cid);
  if (retrieved.bytes === undefined) throw invalid(`${cid} is a ${retrieved.record.data_type}, not a checkpoint`);
  return { ...decodeCheckpoint(retrieved.bytes, world), record: retrieved.record };
}
