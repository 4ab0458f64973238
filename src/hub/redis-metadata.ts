import type { Redis } from 'ioredis';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { DATA_TYPES, ObjectRecordSchema, type DataType, type MetadataStore, type ObjectRecord } from './metadata.ts';

const KEY_PREFIX = 'fai:hub';
/** Index members read (and their records checked in one pipeline) per round trip. */
const INDEX_BATCH = 500;
const recordKey = (cid: string) => `${KEY_PREFIX}:object:${cid}`;
const indexKey = (dataType: DataType) => `${KEY_PREFIX}:index:${dataType}`;

type Operation = 'hset' | 'hget' | 'expire';

/**
 * Records as Redis hashes (`HSET fai:hub:object:<cid>`), expired by `EXPIRE`, listed through a
 * sorted set per data type (`fai:hub:index:<type>`, scored by creation time) — never `KEYS` or a
 * full `SCAN`. Index members whose hash has expired are removed when a listing meets them.
 * Every HSET, HGET and EXPIRE is timed into `redis_metadata_latency_seconds{operation}`.
 */
export class RedisMetadataStore implements MetadataStore {
  readonly backend = 'redis' as const;
  private readonly redis: Redis;
  private readonly metrics: Metrics | undefined;

  constructor(redis: Redis, metrics?: Metrics) {
    this.redis = redis;
    this.metrics = metrics;
  }

  /** HSET, HGET and EXPIRE: guarded, and timed into redis_metadata_latency_seconds{operation}. */
  private async timed<T>(operation: Operation, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await this.guard(operation.toUpperCase(), run);
    } finally {
      this.metrics?.redisMetadataLatencySeconds.observe({ operation }, (performance.now() - started) / 1000);
    }
  }

  /** Every command: a Redis that is down or stalled is a 503 naming the command, never a 500. */
  private async guard<T>(command: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new FaiError(ErrorCodes.UNAVAILABLE, `redis ${command} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  async put(record: ObjectRecord, ttlSeconds: number | null): Promise<void> {
    const key = recordKey(record.cid);
    await this.timed('hset', () =>
      this.redis
        .multi()
        .hset(key, { cid: record.cid, size: String(record.size), data_type: record.data_type, created_at: record.created_at, tags: JSON.stringify(record.tags), checksum: record.checksum, pinned: record.pinned ? '1' : '0' })
        .zadd(indexKey(record.data_type), Date.parse(record.created_at), record.cid)
        .exec()
        .then(failed),
    );
    await this.timed('expire', () => (ttlSeconds === null ? this.redis.persist(key) : this.redis.expire(key, ttlSeconds)));
  }

  /**
   * One Lua script: read the record, merge (earlier created_at, union of tags, the pin as it stands),
   * write it, index it (keeping its first score), and expire it unless pinned. A pin cannot fall
   * between the read and the write, nor between the HSET and its EXPIRE.
   */
  async upsert(record: ObjectRecord, ttlSeconds: number): Promise<ObjectRecord> {
    const key = recordKey(record.cid);
    const [createdAt, tags, pinned] = (await this.timed('hset', () =>
      this.redis.eval(UPSERT_SCRIPT, 2, key, indexKey(record.data_type), record.cid, String(record.size), record.data_type, record.created_at, JSON.stringify(record.tags), record.checksum, String(ttlSeconds), String(Date.parse(record.created_at))),
    )) as [string, string, string];
    return { ...record, created_at: createdAt, tags: parseTags({ cid: record.cid, tags }) as string[], pinned: pinned === '1' };
  }

  /** One Lua script: the pin and the expiry it implies together, only on a record that exists. */
  async setPinned(cid: string, pinned: boolean, ttlSeconds: (record: ObjectRecord) => number): Promise<ObjectRecord | null> {
    const current = await this.get(cid);
    if (current === null) return null;
    // created_at never changes once written, so the expiry worked out from it here still holds inside the script.
    const done = await this.timed('expire', () => this.redis.eval(PIN_SCRIPT, 1, recordKey(cid), pinned ? '1' : '0', String(pinned ? 0 : Math.max(1, Math.round(ttlSeconds(current))))));
    if (done === 0) return null;
    return this.get(cid);
  }

  async get(cid: string): Promise<ObjectRecord | null> {
    const fields = await this.timed('hget', () => this.redis.hgetall(recordKey(cid)));
    return toRecord(fields);
  }

  async list(dataType: DataType, limit: number): Promise<ObjectRecord[]> {
    const members = await this.timed('hget', () => this.redis.zrevrange(indexKey(dataType), 0, Math.max(0, limit - 1)));
    if (members.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const cid of members) pipeline.hgetall(recordKey(cid));
    const results = await this.timed('hget', () => pipeline.exec());
    const out: ObjectRecord[] = [];
    const expired: string[] = [];
    members.forEach((cid, i) => {
      const record = toRecord((results?.[i]?.[1] ?? {}) as Record<string, string>);
      if (record === null) expired.push(cid);
      else out.push(record);
    });
    if (expired.length > 0) await this.guard('ZREM', () => this.redis.zrem(indexKey(dataType), ...expired));
    return out;
  }

  async delete(cid: string): Promise<void> {
    const record = await this.get(cid);
    const multi = this.redis.multi().del(recordKey(cid));
    for (const dataType of record === null ? DATA_TYPES : [record.data_type]) multi.zrem(indexKey(dataType), cid);
    await this.guard('DEL', () => multi.exec().then(failed));
  }

  /**
   * Every live record's CID (gc's mark phase), and the index pruned fully on the way: members are read
   * 500 at a time, their records' existence checked in one pipeline per batch, and members whose
   * record expired removed from the index (a listing only ever pruned the window it returned).
   */
  async *cids(): AsyncGenerator<string> {
    for (const dataType of DATA_TYPES) {
      // Paged by score (creation time), not by rank: members another process adds or removes meanwhile
      // cannot shift a live one out of the walk (a missed live record would lose its blocks to gc).
      let from = '-inf';
      let atBorder = new Set<string>();
      for (;;) {
        const limit = INDEX_BATCH + atBorder.size;
        const page = await this.guard('ZRANGEBYSCORE', () => this.redis.zrangebyscore(indexKey(dataType), from, '+inf', 'WITHSCORES', 'LIMIT', 0, limit));
        const members: string[] = [];
        const scores: string[] = [];
        for (let i = 0; i < page.length; i += 2) {
          if (atBorder.has(page[i]!)) continue;
          members.push(page[i]!);
          scores.push(page[i + 1]!);
        }
        if (members.length === 0) break;
        const pipeline = this.redis.pipeline();
        for (const cid of members) pipeline.exists(recordKey(cid));
        const exists = await this.guard('EXISTS', () => pipeline.exec());
        const expired: string[] = [];
        for (let i = 0; i < members.length; i++) {
          if (exists?.[i]?.[1] === 1) yield members[i]!;
          else expired.push(members[i]!);
        }
        if (expired.length > 0) await this.guard('ZREM', () => this.redis.zrem(indexKey(dataType), ...expired));
        const last = scores.at(-1)!;
        // The next page starts at the last score again (members sharing it may follow), skipping those seen at it.
        atBorder = from === last ? new Set([...atBorder, ...members.filter((_, i) => scores[i] === last)]) : new Set(members.filter((_, i) => scores[i] === last));
        from = last;
        // A short page was the last one (a full page may be followed by more).
        if (page.length / 2 < limit) break;
      }
    }
  }

  async ping(): Promise<void> {
    if ((await this.redis.ping()) !== 'PONG') throw new Error('redis did not answer PONG');
  }

  async close(): Promise<void> {
    // The connection belongs to the composition root, which closes it.
  }
}

/** KEYS: record, index. ARGV: cid, size, data_type, created_at, tags (JSON), checksum, ttl seconds, index score. */
const UPSERT_SCRIPT = `
local old = redis.call('hmget', KEYS[1], 'created_at', 'tags', 'pinned')
local created = old[1] or ARGV[4]
local pinned = old[3] or '0'
local merged, seen = {}, {}
local function add(list) for _, tag in ipairs(list) do if not seen[tag] then seen[tag] = true; merged[#merged + 1] = tag end end end
if old[2] then local ok, parsed = pcall(cjson.decode, old[2]); if ok and type(parsed) == 'table' then add(parsed) end end
add(cjson.decode(ARGV[5]))
local tags = #merged == 0 and '[]' or cjson.encode(merged)
redis.call('hset', KEYS[1], 'cid', ARGV[1], 'size', ARGV[2], 'data_type', ARGV[3], 'created_at', created, 'tags', tags, 'checksum', ARGV[6], 'pinned', pinned)
redis.call('zadd', KEYS[2], 'NX', ARGV[8], ARGV[1])
if pinned == '1' then redis.call('persist', KEYS[1]) else redis.call('expire', KEYS[1], ARGV[7]) end
return {created, tags, pinned}
`;

/** KEYS: record. ARGV: '1' or '0', ttl seconds when unpinning. 0 when there is no record. */
const PIN_SCRIPT = `
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], 'pinned', ARGV[1])
if ARGV[1] == '1' then redis.call('persist', KEYS[1]) else redis.call('expire', KEYS[1], ARGV[2]) end
return 1
`;

function failed(results: Array<[Error | null, unknown]> | null): void {
  const error = results?.find(([e]) => e !== null)?.[0];
  if (error) throw error;
  if (results === null) throw new Error('transaction aborted');
}

/** The tags field as stored; a damaged one is the record's fault (a storage error), never the request's. */
function parseTags(fields: Record<string, string>): unknown {
  try {
    return JSON.parse(fields.tags ?? '[]');
  } catch {
    throw new FaiError(ErrorCodes.STORAGE, `redis record of ${fields.cid} is malformed: its tags are not JSON`);
  }
}

function toRecord(fields: Record<string, string>): ObjectRecord | null {
  if (fields.cid === undefined) return null;
  const parsed = ObjectRecordSchema.safeParse({
    cid: fields.cid,
    size: Number(fields.size),
    data_type: fields.data_type,
    created_at: fields.created_at,
    tags: parseTags(fields),
    checksum: fields.checksum,
    pinned: fields.pinned === '1',
  });
  if (!parsed.success) throw new FaiError(ErrorCodes.STORAGE, `redis record of ${fields.cid} is malformed: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
