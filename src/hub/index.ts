export { connectRedis, pingRedis } from './redis.ts';
