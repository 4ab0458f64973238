export { BlockError, BlockStore, checkJsonValue, decodeJsonBlock, encodeJsonBlock, isCid, MAX_JSON_DEPTH, parseCid, rawCid, type BlockErrorType } from './blocks.ts';
export { CloudHub, DEFAULT_TTL_SECONDS, type HubOptions, type Retrieved, type Streamed } from './hub.ts';
export { EmbeddedMetadataStore } from './embedded-metadata.ts';
export { DATA_TYPES, ObjectRecordSchema, type DataType, type MetadataStore, type ObjectRecord } from './metadata.ts';
export { RedisMetadataStore } from './redis-metadata.ts';
export { connectRedis, pingRedis, redisReady, takeRedisLock, withRedisLock } from './redis.ts';
export { FeedbackSchema, type Feedback } from './feedback.ts';
export { openHub } from './open.ts';
export { explainStorageError } from './storage-error.ts';
