import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../shared/redis/connect.js';
import { type RedisKeys, redisKeys } from '../../shared/redis/keys.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  redis: Redis;
  prefix: string;
  keys: RedisKeys;
  /** Deletes every key under this test's prefix and closes the connection. */
  cleanup(): Promise<void>;
}

/** A Redis connection and a key prefix of this test's own. */
export async function testRedis(): Promise<TestRedis> {
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const redis = connectRedis(REDIS_URL);
  await waitReady(redis);
  const keys = redisKeys(prefix);
  return {
    redis,
    prefix,
    keys,
    async cleanup() {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
}

export async function waitReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', () => resolve());
    redis.once('end', () => reject(new Error('Redis connection ended before it was ready')));
  });
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', redisKeys(prefix).everyKey, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await redis.unlink(...found);
  } while (cursor !== '0');
}
